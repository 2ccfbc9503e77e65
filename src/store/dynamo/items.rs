//! Items and writes: the case item's put (through its stored record), the timeline's event and
//! segment puts, and reading attributes back.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde_dynamo::aws_sdk_dynamodb_1::{to_attribute_value, to_item};

use super::Item;
use super::keys::{case_pk, event_sk, instant};
use super::record::{COMPACT, CaseRecord};
use super::table::{ATTENTION, DUE_AT, DUE_SHARD, DUE_SHARDS, OPEN_TEAM, PARTITION_KEY, SORT_KEY};
use crate::domain::case::Event;
use crate::store::{Change, StoreError};

/// How long a dedupe item lives: longer than any platform retries a delivery.
pub(super) const SEEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// DynamoDB's limits for one transaction: 100 items, 4 MB. We keep a margin on the size, which we
/// estimate from the JSON of the events.
pub(super) const MAX_TRANSACTION_ITEMS: usize = 100;

pub(super) const MAX_TRANSACTION_BYTES: usize = 3_500_000;

/// A segment stays well under DynamoDB's 400 KB per item.
pub(super) const MAX_SEGMENT_BYTES: usize = 300_000;

/// How far past a case's version [`DynamoStore::replace_in_steps`] writes a new timeline, so that no
/// read sees it before the switch: a case would need this many writes to reach it.
pub(super) const INVISIBLE_VERSIONS: u64 = 1 << 32;

/// The case item's put at `version`, on the condition that the case is still at the version it was
/// read at.
pub(super) fn case_put(table: &str, change: &Change<'_>, version: u64) -> Result<TransactWriteItem, StoreError> {
    let case = change.case;
    let pk = case_pk(case.id());
    let stored = CaseRecord::of(case.with_timeline(case.recent(), 0));
    let compact = stored.compact().map_err(|e| corrupt(&pk, e))?;
    let mut item = Item::from([(COMPACT.to_string(), AttributeValue::B(Blob::new(compact)))]);
    item.insert(PARTITION_KEY.into(), AttributeValue::S(pk));
    item.insert(SORT_KEY.into(), AttributeValue::S("CASE".into()));
    item.insert("version".into(), AttributeValue::N(version.to_string()));
    item.insert("events".into(), AttributeValue::N(case.event_count().to_string()));
    if let Some(due) = case.next_due() {
        item.insert(DUE_SHARD.into(), AttributeValue::S(format!("DUE#{}", case.id().shard(DUE_SHARDS))));
        item.insert(DUE_AT.into(), AttributeValue::S(instant(due)));
    }
    if !case.is_closed() {
        item.insert(OPEN_TEAM.into(), AttributeValue::S(case.owner().to_string()));
        let listed = if crate::domain::digest::may_list(case) { 1 } else { 0 };
        item.insert(ATTENTION.into(), AttributeValue::S(format!("{listed}#{}", case.id())));
    }
    if change.expected == 0 {
        put(table, item, Some("attribute_not_exists(#pk)"), None)
    } else {
        put(table, item, Some("version = :expected"), Some(AttributeValue::N(change.expected.to_string())))
    }
}

/// The puts for the changes' timeline events: one item per event when they fit in the transaction
/// beside the `others` items already in it, else segments.
pub(super) fn timeline_puts(
    table: &str,
    changes: &[Change<'_>],
    others: usize,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let mut sized = Vec::new();
    for change in changes {
        for event in &change.events {
            let size = serde_json::to_vec(event).map_or(usize::MAX / 4, |j| j.len()) + 64 + event.source.len();
            sized.push((change, *event, size));
        }
    }
    let total: usize = sized.iter().map(|(_, _, s)| s).sum();
    if others + sized.len() <= MAX_TRANSACTION_ITEMS && total <= MAX_TRANSACTION_BYTES {
        return sized
            .into_iter()
            .map(|(change, event, _)| {
                let pk = case_pk(change.case.id());
                let mut item: Item = to_item(event).map_err(|e| corrupt(&pk, e))?;
                item.insert(SORT_KEY.into(), AttributeValue::S(event_sk(event)));
                item.insert(PARTITION_KEY.into(), AttributeValue::S(pk));
                item.insert("v".into(), AttributeValue::N((change.expected + 1).to_string()));
                put(table, item, None, None)
            })
            .collect();
    }
    let mut puts = Vec::new();
    for change in changes {
        let case = &change.case.id();
        let mut segment: Vec<&Event> = Vec::new();
        let mut bytes = 0;
        let mut events = sized.iter().filter(|(c, _, _)| c.case.id() == *case).peekable();
        while let Some((_, event, size)) = events.next() {
            segment.push(event);
            bytes += size;
            let full = events.peek().is_none_or(|(_, _, next)| bytes + next > MAX_SEGMENT_BYTES);
            if full {
                let pk = case_pk(case);
                let item = HashMap::from([
                    (
                        SORT_KEY.to_string(),
                        AttributeValue::S(format!("SEG#{:012}#{:04}", change.expected + 1, puts.len())),
                    ),
                    (PARTITION_KEY.to_string(), AttributeValue::S(pk.clone())),
                    ("v".to_string(), AttributeValue::N((change.expected + 1).to_string())),
                    ("events".to_string(), to_attribute_value(&segment).map_err(|e| corrupt(&pk, e))?),
                ]);
                puts.push(put(table, item, None, None)?);
                segment.clear();
                bytes = 0;
            }
        }
    }
    if others + puts.len() > MAX_TRANSACTION_ITEMS || total > MAX_TRANSACTION_BYTES {
        let case = changes.first().map_or_else(String::new, |c| c.case.id().to_string());
        let reason = format!("{} events, about {} KB, in {} segments", sized.len(), total / 1000, puts.len());
        return Err(StoreError::TooLarge { case, reason });
    }
    Ok(puts)
}

pub(super) fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
    expected: Option<AttributeValue>,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    if let Some(condition) = condition {
        put = put
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None);
        if condition.contains("#pk") {
            put = put.expression_attribute_names("#pk", PARTITION_KEY);
        }
        if condition.contains("#case") {
            put = put.expression_attribute_names("#case", "case");
        }
    }
    if let Some(expected) = expected {
        put = put.expression_attribute_values(":expected", expected);
    }
    let put = put.build().map_err(|e| StoreError::Backend(Box::new(e)))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn string(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(corrupt(&describe(item), format!("no text attribute `{name}`"))),
    }
}

pub(super) fn number(item: &Item, name: &str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|e| corrupt(&describe(item), e)),
        _ => Err(corrupt(&describe(item), format!("no number attribute `{name}`"))),
    }
}

pub(super) fn describe(item: &Item) -> String {
    let key = |name| match item.get(name) {
        Some(AttributeValue::S(s)) => s.as_str(),
        _ => "?",
    };
    format!("{} {}", key(PARTITION_KEY), key(SORT_KEY))
}

pub(super) fn corrupt(key: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { key: key.to_string(), reason: reason.to_string() }
}

pub(super) fn backend<E: std::error::Error + Send + Sync + 'static>(operation: &str, error: E) -> StoreError {
    StoreError::Backend(format!("{operation}: {}", DisplayErrorContext(error)).into())
}

/// How long a team's day figures and a digest's record are kept: long enough for any digest to
/// read the previous business day's, past any holiday.
pub(super) const DAY_TTL: Duration = Duration::from_secs(60 * 24 * 3600);

/// Adds `figures` to shard `shard` of `team`'s `day` (created by the first addition):
/// `met_<clock>`, `breached_<clock>`, `held_s`, `held_business_s`, all added with `ADD`, so two
/// writes at once both count.
pub(super) fn figures_update(
    table: &str,
    (team, day, shard): (&crate::domain::ids::TeamId, jiff::civil::Date, u32),
    figures: &crate::domain::measure::DayFigures,
) -> Result<TransactWriteItem, StoreError> {
    let mut adds = Vec::new();
    let mut values = HashMap::new();
    let mut number = |name: String, n: i64| {
        let placeholder = format!(":v{}", values.len());
        adds.push(format!("{name} {placeholder}"));
        values.insert(placeholder, AttributeValue::N(n.to_string()));
    };
    for (clock, n) in &figures.met {
        number(format!("met_{clock}"), i64::from(*n));
    }
    for (clock, n) in &figures.breached {
        number(format!("breached_{clock}"), i64::from(*n));
    }
    number("held_s".into(), figures.held_s);
    number("held_business_s".into(), figures.held_business_s);
    let expires = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default() + DAY_TTL;
    values.insert(":expires".into(), AttributeValue::N(expires.as_secs().to_string()));
    let update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .key(PARTITION_KEY, AttributeValue::S(super::keys::day_pk(team, day, shard)))
        .key(SORT_KEY, AttributeValue::S("DAY".into()))
        .update_expression(format!("SET #ttl = :expires ADD {}", adds.join(", ")))
        .expression_attribute_names("#ttl", super::table::TTL_ATTRIBUTE)
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A team's day figures from their item.
pub(super) fn figures_of(item: &Item) -> Result<crate::domain::measure::DayFigures, StoreError> {
    use crate::domain::clock::ClockKind;
    let mut figures = crate::domain::measure::DayFigures::default();
    let signed = |name: &str| -> Result<i64, StoreError> {
        match item.get(name) {
            Some(AttributeValue::N(n)) => n.parse().map_err(|e| corrupt(&describe(item), e)),
            _ => Ok(0),
        }
    };
    for clock in ClockKind::ALL {
        let met = u32::try_from(signed(&format!("met_{clock}"))?).unwrap_or(0);
        let breached = u32::try_from(signed(&format!("breached_{clock}"))?).unwrap_or(0);
        if met > 0 {
            figures.met.insert(clock, met);
        }
        if breached > 0 {
            figures.breached.insert(clock, breached);
        }
    }
    figures.held_s = signed("held_s")?;
    figures.held_business_s = signed("held_business_s")?;
    Ok(figures)
}
