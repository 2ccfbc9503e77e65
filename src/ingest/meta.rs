//! Meta webhook bodies (Facebook pages and Instagram): messages, echoes of the page's own replies,
//! and feed comments (public).

use jiff::Timestamp;
use serde::Deserialize;

use super::{Inbound, IngestError, Parsed, Route, Skipped};
use crate::domain::ids::{Channel, Identity, MessageRef};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

#[derive(Debug, Deserialize)]
struct Body {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    /// Milliseconds; the instant of a comment that has no `created_time`.
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    messaging: Vec<Messaging>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Messaging {
    sender: Party,
    recipient: Party,
    timestamp: i64,
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Party {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    mid: String,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    reply_to: Option<ReplyTo>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReplyTo {
    mid: String,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    value: serde_json::Value,
}

/// A feed comment (`field: "feed"`, `item: "comment"`) or an Instagram comment (`field: "comments"`).
#[derive(Debug, Deserialize)]
struct Comment {
    #[serde(default)]
    item: Option<String>,
    #[serde(default)]
    verb: Option<String>,
    #[serde(default, alias = "id")]
    comment_id: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    post_id: Option<String>,
    from: Party,
    #[serde(default)]
    created_time: Option<i64>,
    /// The comment's text: `message` on a Page feed, `text` on Instagram.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Parses a Meta webhook POST body.
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    let body: Body = serde_json::from_value(body.clone()).map_err(IngestError::json("Meta webhook body"))?;
    let channel = match body.object.as_str() {
        "page" => Channel::Facebook,
        "instagram" => Channel::Instagram,
        other => {
            return Ok(Parsed { skipped: vec![Skipped::UnknownType(format!("object {other}"))], ..Parsed::default() });
        }
    };
    let mut parsed = Parsed::default();
    for entry in &body.entry {
        let page = entry.id.as_str();
        let team = policy.team_for_meta_page(page).map(|t| t.id.clone());
        for m in &entry.messaging {
            let Some(message) = &m.message else {
                parsed.skipped.push(Skipped::NotAboutACase("delivery, read or postback event"));
                continue;
            };
            let at = Timestamp::from_millisecond(m.timestamp)
                .map_err(|e| IngestError::Invalid(format!("Meta timestamp {}: {e}", m.timestamp)))?;
            let source = format!("meta:{}", message.mid);
            let own = vec![MessageRef::meta(&message.mid)];
            let thread: Vec<MessageRef> = message.reply_to.iter().map(|r| MessageRef::meta(&r.mid)).collect();
            if message.is_echo || m.sender.id == page {
                let kind = SignalKind::AgentReply { channel, team: team.clone(), awaiting_customer: false };
                let route =
                    Route { own, thread, customer: Some(Identity::Meta(m.recipient.id.clone())), ..Route::default() };
                parsed.inbound.push(Inbound {
                    signal: Signal::new(at, source, kind).with_excerpt(message.text.as_deref()),
                    route,
                });
            } else {
                let identity = Identity::Meta(m.sender.id.clone());
                let kind = SignalKind::CustomerMessage { channel, public: false, identity: identity.clone() };
                let route = Route { own, thread, customer: Some(identity), team: team.clone(), ..Route::default() };
                parsed.inbound.push(Inbound {
                    signal: Signal::new(at, source, kind).with_excerpt(message.text.as_deref()),
                    route,
                });
            }
        }
        for change in &entry.changes {
            let is_comment = match change.field.as_str() {
                "feed" => change.value.get("item").and_then(|i| i.as_str()) == Some("comment"),
                "comments" => true,
                _ => false,
            };
            if !is_comment {
                parsed.skipped.push(Skipped::UnknownType(format!("changes.{}", change.field)));
                continue;
            }
            let comment: Comment =
                serde_json::from_value(change.value.clone()).map_err(IngestError::json("Meta comment"))?;
            if comment.verb.as_deref().is_some_and(|v| v != "add")
                || comment.item.as_deref().is_some_and(|i| i != "comment")
            {
                parsed.skipped.push(Skipped::NotAboutACase("edited or removed comment"));
                continue;
            }
            let Some(id) = comment.comment_id.clone() else {
                return Err(IngestError::Invalid("Meta comment without comment_id".into()));
            };
            let at = match comment.created_time {
                Some(secs) => Timestamp::from_second(secs)
                    .map_err(|e| IngestError::Invalid(format!("Meta created_time {secs}: {e}")))?,
                None => entry
                    .time
                    .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                    .ok_or_else(|| IngestError::Invalid("Meta comment without created_time or entry time".into()))?,
            };
            let source = format!("meta:{id}");
            let own = vec![MessageRef::meta(&id)];
            let thread: Vec<MessageRef> =
                comment.parent_id.iter().chain(comment.post_id.iter()).map(|p| MessageRef::meta(p)).collect();
            if comment.from.id == page {
                let kind = SignalKind::AgentReply { channel, team: team.clone(), awaiting_customer: false };
                parsed.inbound.push(Inbound {
                    signal: Signal::new(at, source, kind)
                        .with_excerpt(comment.message.as_deref().or(comment.text.as_deref())),
                    route: Route { own, thread, ..Route::default() },
                });
            } else {
                let identity = Identity::Meta(comment.from.id.clone());
                let kind = SignalKind::CustomerMessage { channel, public: true, identity: identity.clone() };
                let route = Route { own, thread, customer: Some(identity), team: team.clone(), ..Route::default() };
                parsed.inbound.push(Inbound {
                    signal: Signal::new(at, source, kind)
                        .with_excerpt(comment.message.as_deref().or(comment.text.as_deref())),
                    route,
                });
            }
        }
    }
    Ok(parsed)
}
