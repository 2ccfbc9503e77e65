//! Alerts over SNS. The message is `baton.alert.v1` JSON for every protocol that reads JSON (SQS,
//! Lambda, HTTP), a readable text for email, and the subject for SMS (`MessageStructure: json`).
//! With a [`Linker`] the alert carries its `links`, and the email text opens with them: the two
//! links are its first lines, where a thumb finds them. The
//! message attributes `level`, `team`, `region`, `clock`, `kind` and `case_id` let each lead subscribe
//! with a filter policy. On a FIFO topic (an ARN ending in `.fifo`) the case is the message group
//! and the alert's id is the deduplication id, so a second publish of the same step within SNS's
//! five-minute window is dropped.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use super::{Message, Notifier, NotifyError, Outbound};
use crate::domain::alert::Alert;
use crate::link::Linker;

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
    fifo: bool,
    linker: Option<Linker>,
}

/// A client for a local endpoint (moto); see [`crate::config::local_aws`].
pub fn local_client(endpoint: &str) -> Client {
    Client::new(&crate::config::local_aws(endpoint))
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        let topic_arn = topic_arn.into();
        Self { client, fifo: topic_arn.ends_with(".fifo"), topic_arn, linker: None }
    }

    /// Alerts that carry `links` made by `linker` (none without one).
    pub fn with_linker(self, linker: Option<Linker>) -> Self {
        Self { linker, ..self }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, message: &Outbound) -> Result<(), NotifyError> {
        let fail = |reason: String| NotifyError { id: message.id.clone(), reason };
        let out = Rendered::of(message, self.linker.as_ref()).map_err(fail)?;
        let body = serde_json::json!({ "default": out.json, "email": out.email, "sms": out.subject });
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(printable(&out.subject))
            .message_structure("json")
            .message(body.to_string());
        for (name, value) in out.attributes {
            request = request.message_attributes(name, value);
        }
        if self.fifo {
            request = request.message_group_id(out.group).message_deduplication_id(deduplication_id(&message.id));
        }
        request.send().await.map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// `PublishBatch`es of up to 10 (see [`publish_batches`]).
    async fn publish_all(&self, messages: &[Outbound]) -> Vec<Result<(), NotifyError>> {
        let entries = messages.iter().enumerate().map(|(i, message)| {
            let out = Rendered::of(message, self.linker.as_ref())?;
            let body = serde_json::json!({ "default": out.json, "email": out.email, "sms": out.subject }).to_string();
            let subject = printable(&out.subject);
            let size = body.len() + subject.len() + attributes_size(&out.attributes);
            let mut entry = PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .subject(subject)
                .message_structure("json")
                .message(body)
                .set_message_attributes(Some(out.attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
            if self.fifo {
                entry = entry.message_group_id(out.group).message_deduplication_id(deduplication_id(&message.id));
            }
            Ok((entry.build().map_err(|e| e.to_string())?, size))
        });
        publish_batches(&self.client, &self.topic_arn, messages, entries.collect()).await
    }
}

/// The most entries one `PublishBatch` carries, and the most bytes of messages and attributes
/// together (SNS: 10 entries, 256 KiB for the whole batch, as for one message); a batch is cut
/// before either.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

/// Publishes `entries` (made from `messages`, in order, each with its index as its batch id, or the
/// reason it could not be made) in `PublishBatch`es: a result for each message, in order. An entry
/// the batch reports failed, and every entry of a request that failed, fails its message.
async fn publish_batches(
    client: &Client,
    topic_arn: &str,
    messages: &[Outbound],
    entries: Vec<Result<(PublishBatchRequestEntry, usize), String>>,
) -> Vec<Result<(), NotifyError>> {
    let fail = |i: usize, reason: String| Err(NotifyError { id: messages[i].id.clone(), reason });
    let mut results: Vec<Result<(), NotifyError>> = Vec::with_capacity(messages.len());
    let mut batches: Vec<Vec<(usize, PublishBatchRequestEntry)>> = vec![Vec::new()];
    let mut bytes = 0;
    for (i, entry) in entries.into_iter().enumerate() {
        results.push(Ok(()));
        match entry {
            Err(reason) => results[i] = fail(i, reason),
            Ok((entry, size)) => {
                let last = batches.last_mut().expect("a batch");
                if !last.is_empty() && (last.len() == BATCH_ENTRIES || bytes + size > BATCH_BYTES) {
                    batches.push(Vec::new());
                    bytes = 0;
                }
                batches.last_mut().expect("a batch").push((i, entry));
                bytes += size;
            }
        }
    }
    for batch in batches.into_iter().filter(|b| !b.is_empty()) {
        let places: Vec<usize> = batch.iter().map(|(i, _)| *i).collect();
        let request = client
            .publish_batch()
            .topic_arn(topic_arn)
            .set_publish_batch_request_entries(Some(batch.into_iter().map(|(_, e)| e).collect()));
        match request.send().await {
            Ok(out) => {
                let failed: std::collections::HashMap<&str, String> = out
                    .failed()
                    .iter()
                    .map(|f| (f.id(), format!("{}: {}", f.code(), f.message().unwrap_or("no message"))))
                    .collect();
                let succeeded: std::collections::HashSet<&str> =
                    out.successful().iter().filter_map(|s| s.id()).collect();
                for i in places {
                    let id = i.to_string();
                    if let Some(reason) = failed.get(id.as_str()) {
                        results[i] = fail(i, reason.clone());
                    } else if !succeeded.contains(id.as_str()) {
                        results[i] = fail(i, "PublishBatch gave no result for it".into());
                    }
                }
            }
            Err(e) => {
                let reason = DisplayErrorContext(e).to_string();
                for i in places {
                    results[i] = fail(i, reason.clone());
                }
            }
        }
    }
    results
}

/// The bytes message attributes add to a batch: names and values.
fn attributes_size(attributes: &[(&'static str, MessageAttributeValue)]) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + value.data_type().len() + value.string_value().map_or(0, str::len))
        .sum()
}

/// A message as it is published: its JSON (with links made as of its own instant, so a second
/// publish carries the same links), subject, email text, message attributes, and FIFO group (the
/// case, or the team's digests).
struct Rendered {
    json: String,
    subject: String,
    email: String,
    /// The chat form (Amazon Q Developer's custom notification).
    chat: String,
    attributes: Vec<(&'static str, MessageAttributeValue)>,
    group: String,
}

impl Rendered {
    fn of(message: &Outbound, linker: Option<&Linker>) -> Result<Self, String> {
        match &message.body {
            Message::Alert(alert) => {
                let mut alert = alert.clone();
                if let Some(linker) = linker {
                    alert.links = linker.for_alert(&alert, alert.at);
                }
                let chat = super::chat::notification(&alert, alert.links.as_ref());
                Ok(Self {
                    json: json(&alert)?,
                    subject: alert.subject(),
                    email: email_text(&alert),
                    chat: json(&chat)?,
                    attributes: attributes(&alert_attributes(&alert))?,
                    group: alert.case_id.clone(),
                })
            }
            Message::Digest(digest) => {
                let mut digest = digest.clone();
                if let Some(linker) = linker {
                    digest.link(linker, digest.at);
                }
                let chat = super::chat::digest_notification(&digest);
                let mut named = vec![
                    ("level", "Number", "0".to_string()),
                    ("team", "String", digest.team.to_string()),
                    ("kind", "String", "digest".to_string()),
                ];
                named.extend(digest.region.clone().map(|r| ("region", "String", r)));
                // So a lead can subscribe to the digests that list something:
                // `{"kind": ["digest"], "in_breach": [{"numeric": [">", 0]}]}`.
                named.push(("in_breach", "Number", digest.in_breach_total.to_string()));
                named.push(("handoffs_waiting", "Number", digest.handoffs_waiting_total.to_string()));
                Ok(Self {
                    json: json(&digest)?,
                    subject: digest.subject(),
                    email: digest.text(),
                    chat: json(&chat)?,
                    attributes: attributes(&named)?,
                    group: format!("digest-{}", digest.team),
                })
            }
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// The email text: with links, the acknowledge link and the case link first (a `cleared` alert has
/// the case link only), then the alert's text without its case API command, which the link
/// replaces; without links, the alert's text as it is.
pub fn email_text(alert: &Alert) -> String {
    let text = alert.text();
    let Some(links) = &alert.links else { return text };
    let mut email = String::new();
    if let Some(ack) = &links.ack {
        email += &format!("Acknowledge {} level {}: {ack}\n", alert.clock, alert.level);
    }
    email += &format!("Open the case: {}\n\n", links.case);
    for line in text.lines().filter(|l| !l.starts_with("Acknowledge: POST ")) {
        email += line;
        email.push('\n');
    }
    email.truncate(email.trim_end().len());
    email.push('\n');
    email
}

/// The message attributes every alert carries, on the alert topic and the chat topic alike, so a
/// filter policy works on both: `level` (Number), `team`, `clock`, `kind`, `case_id`, and `region`
/// when the team has one. A digest carries `level` 0, `team`, `kind` `digest` and `region`.
fn alert_attributes(alert: &Alert) -> Vec<(&'static str, &'static str, String)> {
    let mut attributes = vec![
        ("level", "Number", alert.level.to_string()),
        ("team", "String", alert.team.to_string()),
        ("clock", "String", alert.clock.to_string()),
        ("kind", "String", alert.kind.clone()),
        ("case_id", "String", alert.case_id.clone()),
    ];
    if let Some(region) = &alert.region {
        attributes.push(("region", "String", region.clone()));
    }
    attributes
}

fn attributes(
    named: &[(&'static str, &'static str, String)],
) -> Result<Vec<(&'static str, MessageAttributeValue)>, String> {
    named
        .iter()
        .map(|(name, kind, value)| {
            let value = MessageAttributeValue::builder().data_type(*kind).string_value(value).build();
            value.map(|v| (*name, v)).map_err(|e| e.to_string())
        })
        .collect()
}

/// Alerts for chat channels: each alert in the custom-notification format of Amazon Q Developer in
/// chat applications ([`super::chat`]), published as the plain message (that service reads the body
/// as it is) to a standard topic, with the alert topic's message attributes. The links, when a
/// [`Linker`] is given, are made as of the alert's `at`, so a second publish of the same alert
/// carries the same links.
#[derive(Debug, Clone)]
pub struct ChatNotifier {
    client: Client,
    topic_arn: String,
    linker: Option<Linker>,
}

impl ChatNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>, linker: Option<Linker>) -> Self {
        Self { client, topic_arn: topic_arn.into(), linker }
    }
}

impl Notifier for ChatNotifier {
    async fn publish(&self, message: &Outbound) -> Result<(), NotifyError> {
        let fail = |reason: String| NotifyError { id: message.id.clone(), reason };
        let out = Rendered::of(message, self.linker.as_ref()).map_err(fail)?;
        let mut request = self.client.publish().topic_arn(&self.topic_arn).message(out.chat);
        for (name, value) in out.attributes {
            request = request.message_attributes(name, value);
        }
        if self.topic_arn.ends_with(".fifo") {
            // Amazon Q Developer subscribes to standard topics only; a FIFO one still gets what it needs.
            request = request.message_group_id(out.group).message_deduplication_id(deduplication_id(&message.id));
        }
        request.send().await.map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// `PublishBatch`es of up to 10, as for the alert topic.
    async fn publish_all(&self, messages: &[Outbound]) -> Vec<Result<(), NotifyError>> {
        let fifo = self.topic_arn.ends_with(".fifo");
        let entries = messages.iter().enumerate().map(|(i, message)| {
            let out = Rendered::of(message, self.linker.as_ref())?;
            let size = out.chat.len() + attributes_size(&out.attributes);
            let mut entry = PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .message(out.chat)
                .set_message_attributes(Some(out.attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
            if fifo {
                entry = entry.message_group_id(out.group).message_deduplication_id(deduplication_id(&message.id));
            }
            Ok((entry.build().map_err(|e| e.to_string())?, size))
        });
        publish_batches(&self.client, &self.topic_arn, messages, entries.collect()).await
    }
}

/// SNS subjects are printable ASCII without line breaks.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

/// SNS takes up to 128 characters; a longer id is replaced by its digest.
fn deduplication_id(id: &str) -> String {
    if id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()) {
        return id.to_string();
    }
    crate::hash::sha256_hex(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplication_ids_fit_sns() {
        assert_eq!(
            deduplication_id("baton:BTN-7K3QF9:first_response:breach:1"),
            "baton:BTN-7K3QF9:first_response:breach:1"
        );
        let long = "x".repeat(200);
        assert_eq!(deduplication_id(&long).len(), 64);
        assert_ne!(deduplication_id(&long), deduplication_id(&"x".repeat(201)));
        assert_eq!(printable("a\nb é"), "a?b ?");
    }
}
