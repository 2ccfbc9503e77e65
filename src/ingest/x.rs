//! X Account Activity webhook bodies: `tweet_create_events` (public) and `direct_message_events`
//! (private). `for_user_id` is the brand's account; its own tweets and DMs are replies.

use jiff::Timestamp;
use serde::Deserialize;

use super::{Inbound, IngestError, Parsed, Route, Skipped};
use crate::domain::ids::{Channel, Identity, MessageRef};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

#[derive(Debug, Deserialize)]
struct Body {
    for_user_id: String,
    #[serde(default)]
    tweet_create_events: Vec<Tweet>,
    #[serde(default)]
    direct_message_events: Vec<DirectMessage>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
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

/// Parses an Account Activity POST body.
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    let body: Body = serde_json::from_value(body.clone()).map_err(IngestError::json("X Account Activity body"))?;
    let brand = body.for_user_id.as_str();
    let team = policy.team_for_x_account(brand).map(|t| t.id.clone());
    let mut parsed = Parsed::default();
    for tweet in &body.tweet_create_events {
        if tweet.retweeted_status.is_some() {
            parsed.skipped.push(Skipped::NotAboutACase("retweet"));
            continue;
        }
        let at = tweet_time(&tweet.created_at)?;
        let source = format!("x:{}", tweet.id_str);
        let own = vec![MessageRef::x(&tweet.id_str)];
        let thread: Vec<MessageRef> = tweet.in_reply_to_status_id_str.iter().map(|id| MessageRef::x(id)).collect();
        if tweet.user.id_str == brand {
            let Some(customer) = tweet.in_reply_to_user_id_str.as_ref().filter(|u| *u != brand) else {
                parsed.skipped.push(Skipped::NotAboutACase("the brand's own post"));
                continue;
            };
            let kind = SignalKind::AgentReply { channel: Channel::X, team: team.clone(), awaiting_customer: false };
            let route = Route { thread, own, customer: Some(Identity::X(customer.clone())), ..Route::default() };
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, kind).with_excerpt(tweet.text()), route });
        } else {
            let identity = Identity::X(tweet.user.id_str.clone());
            let kind = SignalKind::CustomerMessage { channel: Channel::X, public: true, identity: identity.clone() };
            let route = Route { thread, own, customer: Some(identity), team: team.clone(), ..Route::default() };
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, kind).with_excerpt(tweet.text()), route });
        }
    }
    for dm in &body.direct_message_events {
        let Some(create) = dm.message_create.as_ref().filter(|_| dm.kind == "message_create") else {
            parsed.skipped.push(Skipped::UnknownType(format!("direct_message_events.{}", dm.kind)));
            continue;
        };
        let millis: i64 = dm.created_timestamp.parse().map_err(|_| {
            IngestError::Invalid(format!("DM created_timestamp `{}` is not milliseconds", dm.created_timestamp))
        })?;
        let at = Timestamp::from_millisecond(millis)
            .map_err(|e| IngestError::Invalid(format!("DM created_timestamp: {e}")))?;
        let source = format!("x:dm:{}", dm.id);
        let text = create.message_data.as_ref().and_then(|d| d.text.as_deref());
        let own = vec![MessageRef::x(&dm.id)];
        if create.sender_id == brand {
            let kind = SignalKind::AgentReply { channel: Channel::X, team: team.clone(), awaiting_customer: false };
            let route =
                Route { own, customer: Some(Identity::X(create.target.recipient_id.clone())), ..Route::default() };
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, kind).with_excerpt(text), route });
        } else {
            let identity = Identity::X(create.sender_id.clone());
            let kind = SignalKind::CustomerMessage { channel: Channel::X, public: false, identity: identity.clone() };
            let route = Route { own, customer: Some(identity), team: team.clone(), ..Route::default() };
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, kind).with_excerpt(text), route });
        }
    }
    for key in body.other.keys().filter(|k| k.ends_with("_events")) {
        parsed.skipped.push(Skipped::UnknownType(key.clone()));
    }
    Ok(parsed)
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
