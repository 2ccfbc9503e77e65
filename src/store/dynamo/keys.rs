//! The table's keys: how each item kind is addressed (see the table in [`super`]), cut to
//! DynamoDB's key limits.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::Item;
use super::items::corrupt;
use super::table::{PARTITION_KEY, SORT_KEY};
use crate::domain::case::Event;
use crate::domain::ids::{CaseId, Identity};
use crate::notify::Outbound;
use crate::store::{Key, StoreError};

/// DynamoDB's key size limits (bytes): longer keys are shortened with a digest.
pub(super) const MAX_PARTITION_KEY: usize = 2048;

pub(super) const MAX_SORT_KEY: usize = 1024;

/// An instant as keys hold it: UTC, fixed width, nanoseconds, so that text order is time order.
pub fn instant(t: Timestamp) -> String {
    format!("{}.{:09}Z", t.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_nanosecond().max(0))
}

/// The outbox's partition: alerts waiting to be published are few and short-lived.
pub(super) const OUTBOX: &str = "OUTBOX";

pub(super) fn outbox_sk(message: &Outbound) -> String {
    bounded(format!("{}#{}", instant(message.at()), message.id), MAX_SORT_KEY)
}

/// A limit counter's key: the digest of what it counts (an address, a domain), never the text.
pub(super) fn limit_pk(key: &str, window: Duration, index: i64) -> String {
    let digest = crate::hash::sha256_hex(key.as_bytes());
    format!("LIMIT#{digest}#{}#{index}", window.as_secs())
}

/// How many items a team's figures of one day are spread over: changes to different cases add to
/// different items (by the case's shard), so a burst of one team's breaches or replies does not make
/// every transaction fight over one item.
pub(super) const FIGURE_SHARDS: u32 = 8;

/// One shard of a team's figures of one local day.
pub(super) fn day_pk(team: &crate::domain::ids::TeamId, day: jiff::civil::Date, shard: u32) -> String {
    format!("DAY#{team}#{day}#{shard}")
}

/// The record that a digest was written to the outbox (its id names the team and day).
pub(super) fn digest_pk(id: &str) -> String {
    bounded(format!("DIGEST#{id}"), MAX_PARTITION_KEY)
}

pub(super) fn seen_pk(source: &str) -> String {
    bounded(format!("SEEN#{source}"), MAX_PARTITION_KEY)
}

pub(super) fn case_pk(id: &CaseId) -> String {
    format!("CASE#{id}")
}

/// The customer index: one item per case an identity was held by, in the identity's key partition.
pub(super) fn customer_index(identity: &Identity, id: &CaseId) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_string(), AttributeValue::S(ref_pk(&Key::Customer(identity.clone())))),
        (SORT_KEY.to_string(), AttributeValue::S(index_sk(id))),
        ("case".to_string(), AttributeValue::S(id.to_string())),
    ])
}

pub(super) fn index_sk(id: &CaseId) -> String {
    format!("CASE#{id}")
}

pub(super) fn event_sk(event: &Event) -> String {
    bounded(format!("EV#{}#{}#{}", instant(event.at), event.source, event.kind.name()), MAX_SORT_KEY)
}

pub(super) fn ref_pk(key: &Key) -> String {
    let pk = match key {
        Key::Message(message) => format!("REF#message#{message}"),
        Key::Customer(identity) => format!("REF#customer#{identity}"),
    };
    bounded(pk, MAX_PARTITION_KEY)
}

/// A key cut to DynamoDB's limit: a long one keeps its start and ends with the digest of the whole.
pub(super) fn bounded(key: String, max: usize) -> String {
    if key.len() <= max {
        return key;
    }
    let digest = crate::hash::sha256_hex(key.as_bytes());
    let mut cut = max - digest.len() - 1;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{digest}", &key[..cut])
}

pub(super) fn case_id(pk: &str) -> Result<CaseId, StoreError> {
    pk.strip_prefix("CASE#").and_then(|id| id.parse().ok()).ok_or_else(|| corrupt(pk, "not a case key"))
}
