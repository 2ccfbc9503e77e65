//! Chat delivery: alerts in the custom-notification format of Amazon Q Developer in chat
//! applications, checked field by field against the documented schema, and published to a standard
//! SNS topic on moto with the alert topic's message attributes, read back from SQS unchanged.

mod common;

use baton::domain::alert::Alert;
use baton::link::{Allows, LinkSigner, Linker};
use baton::notify::chat::{self, MAX_DESCRIPTION, MAX_TITLE, SCHEMA_URL};
use baton::notify::sns::{ChatNotifier, SnsNotifier, email_text, local_client};
use baton::notify::{Fanout, Notifier, Outbound};
use common::moto;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The velcro breach of README's "The alert", as the sweep builds it.
fn breach() -> Alert {
    serde_json::from_value(json!({
        "schema": "baton.alert.v1",
        "kind": "breach",
        "case_id": "BTN-EGT6FK",
        "clock": "handoff_accept",
        "level": 1,
        "team": "support-ch",
        "region": "CH",
        "priority": "normal",
        "channels": ["email", "x"],
        "due_at": "2026-04-23T12:10:00Z",
        "at": "2026-04-23T12:10:00Z",
        "customer_waiting_since": "2026-04-12T17:42:10Z",
        "summary": "Breach: support-ch has not taken up the case handed to it 4h ago. Customer waiting since Sun 12 Apr 19:42 CEST (10d 18h); 1 follow-up, 2 channel hops, 2 public posts. support-ch holds BTN-EGT6FK since Thu 23 Apr 10:10 CEST.",
        "timeline": [
            {"at": "2026-04-23T08:10:00Z", "event": "handoff", "owner": "support-ch"}
        ]
    }))
    .unwrap()
}

fn linker() -> Linker {
    Linker::new(LinkSigner::new(b"a link secret of thirty-two bytes!!").unwrap(), "https://cases.example.com").unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap_or_else(|| panic!("not a list: {value}")).iter().map(|v| v.as_str().unwrap()).collect()
}

/// Every field of the documented event schema, with its type; nothing else at any level.
/// Source: https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html ("Event schema",
/// "Parameter details"): `version` (required, must be `1.0`), `source` (required, must be
/// `custom`), `id` (a unique event identifier), `content.textType` (only `client-markdown`),
/// `content.title`, `content.description`, `content.nextSteps` and `content.keywords` (lists of
/// strings), and `metadata.threadId`, `summary`, `eventType` (strings), `relatedResources` (a list
/// of strings) and `additionalContext` (an object of strings).
fn assert_documented_schema(message: &Value) {
    assert_eq!(SCHEMA_URL, "https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    for key in keys(message) {
        assert!(["version", "source", "id", "content", "metadata"].contains(&key.as_str()), "undocumented {key}");
    }
    assert_eq!(message["version"], "1.0");
    assert_eq!(message["source"], "custom");
    assert!(message["id"].is_string());
    let content = &message["content"];
    for key in keys(content) {
        let documented = ["textType", "title", "description", "nextSteps", "keywords"];
        assert!(documented.contains(&key.as_str()), "undocumented content.{key}");
    }
    assert_eq!(content["textType"], "client-markdown");
    let title = content["title"].as_str().unwrap();
    assert!(!title.is_empty() && title.chars().count() <= MAX_TITLE && !title.contains('\n'), "{title}");
    let description = content["description"].as_str().unwrap();
    assert!(description.chars().count() <= MAX_DESCRIPTION);
    strings(&content["nextSteps"]);
    strings(&content["keywords"]);
    let metadata = &message["metadata"];
    for key in keys(metadata) {
        let documented = ["threadId", "summary", "eventType", "relatedResources", "additionalContext"];
        assert!(documented.contains(&key.as_str()), "undocumented metadata.{key}");
    }
    assert!(metadata["threadId"].is_string() && metadata["summary"].is_string() && metadata["eventType"].is_string());
    if let Some(resources) = metadata.get("relatedResources") {
        strings(resources);
    }
    for (key, value) in metadata["additionalContext"].as_object().unwrap() {
        assert!(value.is_string(), "additionalContext.{key} is a string: {value}");
    }
}

#[test]
fn an_alert_becomes_a_custom_notification_field_by_field_as_documented() {
    let alert = breach();
    let links = linker().for_alert(&alert, alert.at).unwrap();
    let message = serde_json::to_value(chat::notification(&alert, Some(&links))).unwrap();
    assert_documented_schema(&message);

    let content = &message["content"];
    // A lock screen shows the case, what is wrong and who holds it first.
    assert_eq!(content["title"], ":rotating_light: BTN-EGT6FK support-ch: breach, handoff_accept");
    let description = content["description"].as_str().unwrap();
    assert!(description.starts_with(&alert.summary), "{description}");
    assert!(description.contains("Held by: support-ch (region CH)"), "{description}");
    let steps = strings(&content["nextSteps"]);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0], format!("Acknowledge handoff_accept level 1: {}", links.ack.as_deref().unwrap()));
    assert_eq!(steps[1], format!("Open the case: {}", links.case));
    assert_eq!(strings(&content["keywords"]), ["breach", "handoff_accept", "support-ch", "CH", "normal priority"]);

    let metadata = &message["metadata"];
    assert_eq!(metadata["threadId"], "BTN-EGT6FK", "one thread per case");
    assert_eq!(metadata["eventType"], "breach");
    assert_eq!(metadata["summary"], alert.summary.as_str());
    assert_eq!(strings(&metadata["relatedResources"]), [links.case.as_str()]);
    let context = &metadata["additionalContext"];
    assert_eq!(context["case_id"], "BTN-EGT6FK");
    assert_eq!((context["clock"].as_str(), context["level"].as_str()), (Some("handoff_accept"), Some("1")));
    assert_eq!(context["due_at"], "2026-04-23T12:10:00Z");

    // The ack link grants exactly this clock and level.
    let token = links.ack.as_deref().unwrap().rsplit('/').next().unwrap();
    let grant = linker().signer().verify(token, alert.at).unwrap();
    assert_eq!(grant.allows, Allows::Ack { clock: alert.clock, level: 1 });
}

#[test]
fn without_links_the_next_step_is_the_api_call_and_a_cleared_alert_asks_for_nothing() {
    let alert = breach();
    let message = serde_json::to_value(chat::notification(&alert, None)).unwrap();
    assert_documented_schema(&message);
    assert_eq!(
        strings(&message["content"]["nextSteps"]),
        [r#"Acknowledge: POST /cases/BTN-EGT6FK/ack {"clock": "handoff_accept", "level": 1}"#]
    );
    assert!(message["metadata"].get("relatedResources").is_none());

    let cleared = Alert { kind: "cleared".into(), ..breach() };
    let links = linker().for_alert(&cleared, cleared.at).unwrap();
    assert_eq!(links.ack, None, "a cleared alert has nothing to acknowledge");
    let message = serde_json::to_value(chat::notification(&cleared, Some(&links))).unwrap();
    assert_documented_schema(&message);
    assert_eq!(
        message["content"]["title"],
        ":white_check_mark: BTN-EGT6FK support-ch: cleared (was level 1), handoff_accept"
    );
    assert_eq!(strings(&message["content"]["nextSteps"]), [format!("Open the case: {}", links.case)]);
    assert_eq!(message["metadata"]["threadId"], "BTN-EGT6FK", "the same thread as the breach it clears");
}

#[test]
fn a_long_summary_is_cut_to_the_description_cap() {
    let alert = Alert { summary: "x".repeat(5000), ..breach() };
    let message = serde_json::to_value(chat::notification(&alert, None)).unwrap();
    assert_documented_schema(&message);
    assert!(message["content"]["description"].as_str().unwrap().ends_with('…'));
}

#[tokio::test]
async fn a_standard_topic_delivers_the_chat_message_unchanged_with_the_alert_topics_attributes() {
    let (chat_topic, chat_queue) = moto::topic_with_queue("chat", false).await;
    let (alert_topic, alert_queue) = moto::topic_with_queue("chat-alerts", false).await;
    assert!(!chat_topic.ends_with(".fifo"), "Amazon Q Developer takes standard topics");
    let alert = breach();
    let outbound = Outbound::alert("baton:BTN-EGT6FK:handoff_accept:breach:1".into(), alert.clone());
    let sns = local_client(moto::endpoint());
    ChatNotifier::new(sns.clone(), &chat_topic, Some(linker())).publish(&outbound).await.unwrap();
    SnsNotifier::new(sns, &alert_topic).publish(&outbound).await.unwrap();

    let chat_received = moto::drain(&chat_queue).await;
    assert_eq!(chat_received.len(), 1);
    let links = linker().for_alert(&alert, alert.at).unwrap();
    let sent = serde_json::to_value(chat::notification(&alert, Some(&links))).unwrap();
    assert_eq!(chat_received[0].alert, sent, "the message arrives as it was published");
    assert_documented_schema(&chat_received[0].alert);

    let alert_received = moto::drain(&alert_queue).await;
    assert_eq!(alert_received.len(), 1);
    let attributes = &chat_received[0].attributes;
    assert_eq!(attributes, &alert_received[0].attributes, "filter policies work on both topics");
    assert_eq!(attributes["level"], json!({"Type": "Number", "Value": "1"}));
    assert_eq!(attributes["region"], json!({"Type": "String", "Value": "CH"}));
    for name in ["team", "clock", "kind", "case_id"] {
        assert_eq!(attributes[name]["Type"], "String", "{name}");
    }

    // A second publish of the same alert carries the same links (made as of the alert's `at`).
    let later = Timestamp::from_second(alert.at.as_second() + 3600).unwrap();
    assert_ne!(linker().for_alert(&alert, later), Some(links.clone()));
    ChatNotifier::new(local_client(moto::endpoint()), &chat_topic, Some(linker())).publish(&outbound).await.unwrap();
    assert_eq!(moto::drain(&chat_queue).await[0].alert, sent);
}

#[test]
fn the_email_text_opens_with_the_two_links_and_a_cleared_alerts_with_the_case_link() {
    let plain = breach();
    assert_eq!(email_text(&plain), plain.text(), "without links the text is as it was");
    let mut alert = breach();
    alert.links = linker().for_alert(&alert, alert.at);
    let links = alert.links.clone().unwrap();
    let text = email_text(&alert);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("Acknowledge handoff_accept level 1: {}", links.ack.as_deref().unwrap()));
    assert_eq!(lines[1], format!("Open the case: {}", links.case));
    assert_eq!(lines[2], "");
    assert_eq!(lines[3], alert.summary);
    assert!(!text.contains("POST /cases/"), "the link replaces the case API command: {text}");
    assert!(text.contains("Held by:  support-ch (region CH)"), "{text}");

    let mut cleared = Alert { kind: "cleared".into(), ..breach() };
    cleared.links = linker().for_alert(&cleared, cleared.at);
    let text = email_text(&cleared);
    assert_eq!(text.lines().next().unwrap(), format!("Open the case: {}", cleared.links.as_ref().unwrap().case));
    assert!(!text.contains("Acknowledge"), "{text}");
}

/// The sweep's notifier: the alert topic, with links, then the chat topic. The JSON SQS consumers
/// read gains `links` and nothing else changes; the attributes are the same on both.
#[tokio::test]
async fn with_a_linker_the_alert_carries_its_links_and_the_chat_topic_gets_the_same_alert() {
    let (chat_topic, chat_queue) = moto::topic_with_queue("fanout-chat", false).await;
    let (alert_topic, alert_queue) = moto::topic_with_queue("fanout-alerts", false).await;
    let alert = breach();
    let outbound = Outbound::alert("baton:BTN-EGT6FK:handoff_accept:breach:1".into(), alert.clone());
    let sns = local_client(moto::endpoint());
    let notifier = Fanout {
        first: SnsNotifier::new(sns.clone(), &alert_topic).with_linker(Some(linker())),
        second: Some(ChatNotifier::new(sns, &chat_topic, Some(linker()))),
    };
    notifier.publish(&outbound).await.unwrap();

    let links = linker().for_alert(&alert, alert.at).unwrap();
    let received = moto::drain(&alert_queue).await;
    assert_eq!(received.len(), 1);
    let mut expected = serde_json::to_value(&alert).unwrap();
    expected["links"] = serde_json::to_value(&links).unwrap();
    assert_eq!(received[0].alert, expected, "the alert JSON plus its links");
    assert_eq!(received[0].alert["links"]["ack"], links.ack.as_deref().unwrap());
    let chat = moto::drain(&chat_queue).await;
    assert_eq!(chat.len(), 1);
    assert_eq!(chat[0].alert["metadata"]["relatedResources"], json!([links.case]));
    assert_eq!(chat[0].attributes, received[0].attributes);

    // Without a chat topic only the alert topic is published to.
    let alone: Fanout<SnsNotifier, ChatNotifier> =
        Fanout { first: SnsNotifier::new(local_client(moto::endpoint()), &alert_topic), second: None };
    alone.publish(&outbound).await.unwrap();
    let received = moto::drain(&alert_queue).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].alert.get("links").is_none(), "no linker, no links");
    assert!(moto::drain(&chat_queue).await.is_empty());
}
