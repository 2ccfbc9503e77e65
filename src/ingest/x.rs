//! X Account Activity webhook bodies: `tweet_create_events` (public) and `direct_message_events`
//! (private), and `tweet_delete_events`. `for_user_id` is the brand's account; its own tweets and
//! DMs are replies.

use jiff::Timestamp;
use serde::Deserialize;

use super::{EntryResult, Inbound, IngestError, Parsed, Route, Skipped, unreadable};
use crate::domain::ids::{Channel, Identity, MessageRef, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

/// The body's parts, borrowed from its `Value`: the brand's account (a `user_event`, an app's access
/// revoked, carries none), the events of each kind Baton reads, and the other keys in order (event
/// types Baton does not read). Borrowed, not read into a struct: that copied every event.
struct Body<'a> {
    for_user_id: Option<&'a str>,
    tweet_create_events: &'a [serde_json::Value],
    direct_message_events: &'a [serde_json::Value],
    tweet_delete_events: &'a [serde_json::Value],
    other: Vec<&'a String>,
}

/// The types a body's known fields must have, as serde reads them (every field may be missing, the
/// account may be null): only read for the error when a field has another type.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Typed {
    #[serde(default)]
    for_user_id: Option<String>,
    #[serde(default)]
    tweet_create_events: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    direct_message_events: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    tweet_delete_events: Vec<serde::de::IgnoredAny>,
}

fn read_body(body: &serde_json::Value) -> Result<Body<'_>, serde_json::Error> {
    use serde_json::Value;
    const KNOWN: [&str; 4] = ["for_user_id", "tweet_create_events", "direct_message_events", "tweet_delete_events"];
    let Some(map) = body.as_object() else {
        return Err(match serde::Deserializer::deserialize_map(body, MapOnly) {
            Err(why) => why,
            Ok(()) => serde::de::Error::custom("an X webhook body is an object"),
        });
    };
    let events = |key: &str| match map.get(key) {
        None => Some(&[][..]),
        Some(Value::Array(events)) => Some(&events[..]),
        Some(_) => None,
    };
    let account = match map.get("for_user_id") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(account)) => Some(Some(account.as_str())),
        Some(_) => None,
    };
    match (account, events("tweet_create_events"), events("direct_message_events"), events("tweet_delete_events")) {
        (Some(for_user_id), Some(tweet_create_events), Some(direct_message_events), Some(tweet_delete_events)) => {
            Ok(Body {
                for_user_id,
                tweet_create_events,
                direct_message_events,
                tweet_delete_events,
                other: map.keys().filter(|k| !KNOWN.contains(&k.as_str())).collect(),
            })
        }
        _ => Err(match Typed::deserialize(body) {
            Err(why) => why,
            Ok(_) => serde::de::Error::custom("a field of an unexpected type"),
        }),
    }
}

/// A visitor of maps only, named as a derive names the body, for the error of a body that is not an
/// object.
struct MapOnly;

impl serde::de::Visitor<'_> for MapOnly {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct Body")
    }
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
    let body = match read_body(body) {
        Ok(body) => body,
        Err(why) => {
            parsed.skipped.push(unreadable("X body", why));
            return Ok(parsed);
        }
    };
    for deletion in body.tweet_delete_events {
        match Deletion::deserialize(deletion) {
            Ok(d) => parsed.deleted.push(MessageRef::x(&d.status.id)),
            Err(why) => parsed.skipped.push(unreadable("tweet_delete_events", why)),
        }
    }
    let Some(brand) = body.for_user_id else {
        for key in body.other {
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
    for key in body.other.into_iter().filter(|k| k.ends_with("_events") || k.ends_with("_event")) {
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

    /// The body as it was read before [`read_body`]: a derive with a flattened map of the other keys.
    /// (Named as it was, for its errors: a derive names its struct in them.)
    #[derive(Debug, Deserialize)]
    struct Body {
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

    #[test]
    fn a_body_reads_as_the_flattened_derive_read_it() {
        let fixture = |name: &str| {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(path).unwrap()
        };
        let mut bodies = vec![fixture("x-tweet.json"), fixture("x-dm.json")];
        bodies.extend(
            [
                "[]",
                r#"["1", []]"#,
                "3",
                "-2.5",
                r#""text""#,
                "true",
                "null",
                "{}",
                r#"{"for_user_id": 5}"#,
                r#"{"for_user_id": null, "tweet_create_events": []}"#,
                r#"{"tweet_create_events": null}"#,
                r#"{"for_user_id": "1", "tweet_create_events": {}}"#,
                r#"{"for_user_id": "1", "direct_message_events": "x"}"#,
                r#"{"for_user_id": "1", "tweet_delete_events": [1, {"a": 2}]}"#,
                r#"{"user_event": {"revoke": {}}}"#,
                r#"{"for_user_id": "1", "favorite_events": [{}], "tweet_create_events": [{"id": 1}], "follow_events": []}"#,
            ]
            .map(str::to_string),
        );
        for text in &bodies {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            match (read_body(&value), Body::deserialize(&value)) {
                (Ok(read), Ok(old)) => {
                    assert_eq!(read.for_user_id, old.for_user_id.as_deref(), "{text}");
                    assert_eq!(read.tweet_create_events, old.tweet_create_events, "{text}");
                    assert_eq!(read.direct_message_events, old.direct_message_events, "{text}");
                    assert_eq!(read.tweet_delete_events, old.tweet_delete_events, "{text}");
                    assert_eq!(read.other, old.other.keys().collect::<Vec<_>>(), "{text}");
                }
                (Err(read), Err(old)) => assert_eq!(read.to_string(), old.to_string(), "{text}"),
                (read, old) => panic!("{text}: read {:?}, before {old:?}", read.map(|b| b.other)),
            }
        }
    }
}
