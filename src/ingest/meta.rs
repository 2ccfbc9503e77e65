//! Meta webhook bodies (Facebook pages and Instagram): messages and echoes of the page's own replies,
//! in `messaging` or, for a thread another app owns (the handover protocol), in `standby`; and feed
//! and Instagram comments (public) in `changes`.
//!
//! One entry never sinks a delivery: an entry or item that cannot be read (a field missing or of
//! the wrong type), or that Baton does not use (deliveries, reads, reactions, postbacks, other
//! fields), is skipped and counted, and the rest is applied. Only a body that is not JSON is refused.
//!
//! Instants: a messaging item's `timestamp` is in milliseconds; a comment's `created_time`, and the
//! `time` of a changes-style entry, are in seconds (Meta's own examples).

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{EntryResult, Inbound, IngestError, Parsed, Route, Skipped, unreadable};
use crate::domain::ids::{Channel, Identity, MessageRef, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

#[derive(Debug, Deserialize)]
struct Body {
    object: String,
    entry: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    /// Milliseconds on messaging entries, seconds on changes-style entries.
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    messaging: Vec<serde_json::Value>,
    /// Events of threads another app owns (handover protocol): the same shape as `messaging`. A
    /// brand reply sent from another inbox arrives here, and must stop the clock too.
    #[serde(default)]
    standby: Vec<serde_json::Value>,
    #[serde(default)]
    changes: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Messaging {
    #[serde(default)]
    sender: Option<Party>,
    #[serde(default)]
    recipient: Option<Party>,
    /// Milliseconds. Delivery and read events carry none.
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Party {
    #[serde(deserialize_with = "id_text")]
    id: String,
}

/// An id Meta writes as a string or, in older payloads, as a number.
fn id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Number(n) => n.to_string(),
    })
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
    /// Instagram: the post commented on.
    #[serde(default)]
    media: Option<Media>,
    #[serde(default)]
    from: Option<Party>,
    /// Older feed payloads name the author here instead of `from`.
    #[serde(default, deserialize_with = "optional_id_text")]
    sender_id: Option<String>,
    #[serde(default)]
    created_time: Option<i64>,
    /// The comment's text: `message` on a Page feed, `text` on Instagram.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

fn optional_id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Some(id_text(deserializer)?))
}

#[derive(Debug, Deserialize)]
struct Media {
    id: String,
}

/// [`parse`] from the body's JSON text (the replay's lines).
pub fn parse_str(body: &str, policy: &Policy) -> Result<Parsed, IngestError> {
    parse(&serde_json::from_str(body).map_err(IngestError::json("Meta body"))?, policy)
}

/// Parses a Meta webhook POST body. Every entry and item is read on its own (see the module).
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    let mut parsed = Parsed::default();
    let body: Body = match read(body) {
        Ok(body) => body,
        Err(why) => {
            parsed.skipped.push(unreadable("Meta body", why));
            return Ok(parsed);
        }
    };
    let channel = match body.object.as_str() {
        "page" => Channel::Facebook,
        "instagram" => Channel::Instagram,
        other => {
            parsed.skipped.push(Skipped::UnknownType(format!("object {other}")));
            return Ok(parsed);
        }
    };
    for (n, entry) in body.entry.iter().enumerate() {
        let entry: Entry = match read(entry) {
            Ok(entry) => entry,
            Err(why) => {
                parsed.skipped.push(unreadable(&format!("entry {n}"), why));
                continue;
            }
        };
        let page = entry.id.as_str();
        let team = policy.team_for_meta_page(page).map(|t| t.id.clone());
        for (list, items) in [("messaging", &entry.messaging), ("standby", &entry.standby)] {
            for (i, item) in items.iter().enumerate() {
                parsed.entry(|| format!("entry {n} {list} {i}"), messaging(item, page, channel, &team));
            }
        }
        for (i, change) in entry.changes.iter().enumerate() {
            parsed.entry(|| format!("entry {n} change {i}"), comment(change, &entry, channel, &team));
        }
    }
    Ok(parsed)
}

fn read<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, serde_json::Error> {
    T::deserialize(value)
}

/// A messaging or standby item: a message or an echo, or `None` for the events Baton does not use.
fn messaging(item: &serde_json::Value, page: &str, channel: Channel, team: &Option<TeamId>) -> EntryResult {
    let m: Messaging = read(item).map_err(|e| e.to_string())?;
    let Some(message) = &m.message else {
        return Ok(Err(Skipped::NotAboutACase("delivery, read, reaction or postback")));
    };
    let (Some(sender), Some(recipient)) = (&m.sender, &m.recipient) else {
        return Err("a message without `sender` or `recipient`".into());
    };
    let millis = m.timestamp.ok_or("a message without `timestamp`")?;
    let at = Timestamp::from_millisecond(millis).map_err(|_| "`timestamp` is out of range".to_string())?;
    let source = format!("meta:{}", message.mid);
    let own = vec![MessageRef::meta(&message.mid)];
    let thread: Vec<MessageRef> = message.reply_to.iter().map(|r| MessageRef::meta(&r.mid)).collect();
    let (kind, route) = if message.is_echo || sender.id == page {
        let kind = SignalKind::AgentReply { channel, team: team.clone(), awaiting_customer: false };
        (kind, Route { own, thread, customer: Some(Identity::Meta(recipient.id.clone())), ..Route::default() })
    } else {
        let identity = Identity::Meta(sender.id.clone());
        let kind = SignalKind::CustomerMessage { channel, public: false, identity: identity.clone() };
        (kind, Route { own, thread, customer: Some(identity), team: team.clone(), ..Route::default() })
    };
    Ok(Ok(Inbound { signal: Signal::new(at, source, kind).with_excerpt(message.text.as_deref()), route }))
}

/// A change: a new comment, or why it is skipped.
fn comment(change: &serde_json::Value, entry: &Entry, channel: Channel, team: &Option<TeamId>) -> EntryResult {
    let change: Change = read(change).map_err(|e| e.to_string())?;
    let is_comment = match change.field.as_str() {
        "feed" => change.value.get("item").and_then(|i| i.as_str()) == Some("comment"),
        "comments" => true,
        _ => false,
    };
    if !is_comment {
        return Ok(Err(Skipped::UnknownType(format!("changes.{}", change.field))));
    }
    let comment: Comment = read(&change.value).map_err(|e| e.to_string())?;
    if comment.verb.as_deref().is_some_and(|v| v != "add") || comment.item.as_deref().is_some_and(|i| i != "comment") {
        return Ok(Err(Skipped::NotAboutACase("edited or removed comment")));
    }
    let id = comment.comment_id.clone().ok_or("a comment without `comment_id` or `id`")?;
    let author = comment.from.as_ref().map(|f| f.id.clone()).or(comment.sender_id.clone());
    let author = author.ok_or("a comment without `from`")?;
    let at = match comment.created_time.or(entry.time) {
        Some(time) => seconds(time).ok_or("the comment's time is out of range")?,
        None => return Err("a comment without `created_time` or entry `time`".into()),
    };
    let source = format!("meta:{id}");
    let own = vec![MessageRef::meta(&id)];
    let thread: Vec<MessageRef> = comment
        .parent_id
        .iter()
        .chain(comment.post_id.iter())
        .chain(comment.media.as_ref().map(|m| &m.id))
        .map(|p| MessageRef::meta(p))
        .collect();
    let text = comment.message.as_deref().or(comment.text.as_deref());
    let page = entry.id.as_str();
    let inbound = if author == page {
        let kind = SignalKind::AgentReply { channel, team: team.clone(), awaiting_customer: false };
        Inbound {
            signal: Signal::new(at, source, kind).with_excerpt(text),
            route: Route { own, thread, ..Route::default() },
        }
    } else {
        let identity = Identity::Meta(author);
        let kind = SignalKind::CustomerMessage { channel, public: true, identity: identity.clone() };
        let route = Route { own, thread, customer: Some(identity), team: team.clone(), ..Route::default() };
        Inbound { signal: Signal::new(at, source, kind).with_excerpt(text), route }
    };
    Ok(Ok(inbound))
}

/// A changes-style instant: seconds. A value too large to be seconds of this era (after the year
/// 5000) is taken as milliseconds, so that a payload that sends those is not dated thousands of
/// years ahead.
fn seconds(time: i64) -> Option<Timestamp> {
    if time > 100_000_000_000 { Timestamp::from_millisecond(time).ok() } else { Timestamp::from_second(time).ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_style_times_are_seconds() {
        assert_eq!(seconds(1785108996), Some("2026-07-26T23:36:36Z".parse().unwrap()));
        assert_eq!(seconds(1785108996000), seconds(1785108996));
    }
}
