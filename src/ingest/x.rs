//! X Account Activity webhook bodies: `tweet_create_events` (public) and `direct_message_events`
//! (private), and `tweet_delete_events`. `for_user_id` is the brand's account; its own tweets and
//! DMs are replies.

use jiff::Timestamp;
use serde::Deserialize;

use super::{EntryResult, Inbound, IngestError, Parsed, Route, Skipped, unreadable};
use crate::domain::ids::{Channel, Identity, MessageRef, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

#[derive(Debug, Deserialize)]
struct Body {
    /// The brand's account. A `user_event` (an app's access revoked) carries none.
    #[serde(default)]
    for_user_id: Option<String>,
    #[serde(default)]
    tweet_create_events: Vec<serde_json::Value>,
    #[serde(default)]
    direct_message_events: Vec<serde_json::Value>,
    #[serde(default)]
    tweet_delete_events: Vec<serde_json::Value>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// A deleted tweet: `{"status": {"id", "user_id"}, "timestamp_ms"}`.
#[derive(Debug, Deserialize)]
struct Deletion {
    status: DeletedStatus,
}

#[derive(Debug, Deserialize)]
struct DeletedStatus {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Tweet {
    created_at: String,
    id_str: String,
    #[serde(default)]
    in_reply_to_status_id_str: Option<String>,
    #[serde(default)]
    in_reply_to_user_id_str: Option<String>,
    user: User,
    #[serde(default)]
    retweeted_status: Option<serde_json::Value>,
    #[serde(default)]
    text: Option<String>,
    /// A tweet over 140 characters carries its whole text here.
    #[serde(default)]
    extended_tweet: Option<ExtendedTweet>,
}

#[derive(Debug, Deserialize)]
struct ExtendedTweet {
    full_text: String,
}

impl Tweet {
    fn text(&self) -> Option<&str> {
        self.extended_tweet.as_ref().map(|e| e.full_text.as_str()).or(self.text.as_deref())
    }
}

#[derive(Debug, Deserialize)]
struct User {
    id_str: String,
}

#[derive(Debug, Deserialize)]
struct DirectMessage {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    created_timestamp: String,
    #[serde(default)]
    message_create: Option<MessageCreate>,
}

#[derive(Debug, Deserialize)]
struct MessageCreate {
    target: Target,
    sender_id: String,
    #[serde(default)]
    message_data: Option<MessageData>,
}

#[derive(Debug, Deserialize)]
struct MessageData {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Target {
    recipient_id: String,
}

/// [`parse`] from the body's JSON text (the replay's lines).
pub fn parse_str(body: &str, policy: &Policy) -> Result<Parsed, IngestError> {
    parse(&serde_json::from_str(body).map_err(IngestError::json("X body"))?, policy)
}

/// Parses an Account Activity POST body. Every event is read on its own: one that cannot be read
/// (or a body with no `for_user_id`, such as a `user_event`) is skipped and counted, and the rest is
/// applied. `tweet_delete_events` name tweets whose excerpts are to be erased (X's developer terms
/// require honouring deletions); the timing stays.
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    let mut parsed = Parsed::default();
    let body: Body = match Body::deserialize(body) {
        Ok(body) => body,
        Err(why) => {
            parsed.skipped.push(unreadable("X body", why));
            return Ok(parsed);
        }
    };
    for deletion in &body.tweet_delete_events {
        match Deletion::deserialize(deletion) {
            Ok(d) => parsed.deleted.push(MessageRef::x(&d.status.id)),
            Err(why) => parsed.skipped.push(unreadable("tweet_delete_events", why)),
        }
    }
    let Some(brand) = body.for_user_id.as_deref() else {
        for key in body.other.keys() {
            parsed.skipped.push(Skipped::UnknownType(key.clone()));
        }
        if !body.tweet_create_events.is_empty() || !body.direct_message_events.is_empty() {
            parsed.skipped.push(Skipped::Unreadable("X body: events without `for_user_id`".into()));
        }
        return Ok(parsed);
    };
    let team = policy.team_for_x_account(brand).map(|t| t.id.clone());
    for (i, tweet) in body.tweet_create_events.iter().enumerate() {
        let entry = Tweet::deserialize(tweet).map_err(|e| e.to_string()).and_then(|t| tweet_signal(&t, brand, &team));
        parsed.entry(|| format!("tweet_create_events {i}"), entry);
    }
    for (i, dm) in body.direct_message_events.iter().enumerate() {
        let entry = DirectMessage::deserialize(dm).map_err(|e| e.to_string()).and_then(|d| dm_signal(&d, brand, &team));
        parsed.entry(|| format!("direct_message_events {i}"), entry);
    }
    for key in body.other.keys().filter(|k| k.ends_with("_events") || k.ends_with("_event")) {
        parsed.skipped.push(Skipped::UnknownType(key.clone()));
    }
    Ok(parsed)
}

fn tweet_signal(tweet: &Tweet, brand: &str, team: &Option<TeamId>) -> EntryResult {
    if tweet.retweeted_status.is_some() {
        return Ok(Err(Skipped::NotAboutACase("retweet")));
    }
    let at = tweet_time(&tweet.created_at).map_err(|_| "`created_at` is not X's date format".to_string())?;
    let source = format!("x:{}", tweet.id_str);
    let own = vec![MessageRef::x(&tweet.id_str)];
    let thread: Vec<MessageRef> = tweet.in_reply_to_status_id_str.iter().map(|id| MessageRef::x(id)).collect();
    if tweet.user.id_str == brand {
        let Some(customer) = tweet.in_reply_to_user_id_str.as_ref().filter(|u| *u != brand) else {
            return Ok(Err(Skipped::NotAboutACase("the brand's own post")));
        };
        let kind = SignalKind::AgentReply { channel: Channel::X, team: team.clone(), awaiting_customer: false };
        let route = Route { thread, own, customer: Some(Identity::X(customer.clone())), ..Route::default() };
        Ok(Ok(Inbound { signal: Signal::new(at, source, kind).with_excerpt(tweet.text()), route }))
    } else {
        let identity = Identity::X(tweet.user.id_str.clone());
        let kind = SignalKind::CustomerMessage { channel: Channel::X, public: true, identity: identity.clone() };
        let route = Route { thread, own, customer: Some(identity), team: team.clone(), ..Route::default() };
        Ok(Ok(Inbound { signal: Signal::new(at, source, kind).with_excerpt(tweet.text()), route }))
    }
}

fn dm_signal(dm: &DirectMessage, brand: &str, team: &Option<TeamId>) -> EntryResult {
    let Some(create) = dm.message_create.as_ref().filter(|_| dm.kind == "message_create") else {
        return Ok(Err(Skipped::UnknownType(format!("direct_message_events.{}", dm.kind))));
    };
    let millis: i64 =
        dm.created_timestamp.parse().map_err(|_| "`created_timestamp` is not milliseconds".to_string())?;
    let at = Timestamp::from_millisecond(millis).map_err(|_| "`created_timestamp` is out of range".to_string())?;
    let source = format!("x:dm:{}", dm.id);
    let text = create.message_data.as_ref().and_then(|d| d.text.as_deref());
    let own = vec![MessageRef::x(&dm.id)];
    if create.sender_id == brand {
        let kind = SignalKind::AgentReply { channel: Channel::X, team: team.clone(), awaiting_customer: false };
        let route = Route { own, customer: Some(Identity::X(create.target.recipient_id.clone())), ..Route::default() };
        Ok(Ok(Inbound { signal: Signal::new(at, source, kind).with_excerpt(text), route }))
    } else {
        let identity = Identity::X(create.sender_id.clone());
        let kind = SignalKind::CustomerMessage { channel: Channel::X, public: false, identity: identity.clone() };
        let route = Route { own, customer: Some(identity), team: team.clone(), ..Route::default() };
        Ok(Ok(Inbound { signal: Signal::new(at, source, kind).with_excerpt(text), route }))
    }
}

/// X's `created_at`: `Tue Apr 21 07:15:00 +0000 2026`.
fn tweet_time(text: &str) -> Result<Timestamp, IngestError> {
    jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %z %Y", text)
        .and_then(|t| t.to_timestamp())
        .map_err(|e| IngestError::Invalid(format!("tweet created_at `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweet_times_read_the_x_format() {
        assert_eq!(tweet_time("Tue Apr 21 07:15:00 +0000 2026").unwrap(), "2026-04-21T07:15:00Z".parse().unwrap());
        assert!(tweet_time("2026-04-21").is_err());
    }
}
