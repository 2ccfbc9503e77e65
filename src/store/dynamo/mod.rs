//! The DynamoDB store: one table (see [`table`]), items as docs/design.md's "Store" describes.
//!
//! | item      | PK                      | SK                                   | holds                         |
//! |-----------|-------------------------|--------------------------------------|-------------------------------|
//! | case      | `CASE#<id>`             | `CASE`                               | state, clocks, `version`, the [recent](Case::recent) events, `events` (count), due keys |
//! | event     | `CASE#<id>`             | `EV#<instant>#<source id>#<kind>`    | one timeline event, `v`       |
//! | segment   | `CASE#<id>`             | `SEG#<version>#<n>`                  | `events`: many, `v`           |
//! | reference | `REF#message#<ref>`, `REF#customer#<identity>` | `REF`         | `case`                        |
//! | customer index | `REF#customer#<identity>` | `CASE#<id>`                      | `case`: every case the identity was held by |
//! | dedupe    | `SEEN#<source id>`      | `SEEN`                               | `expires_at` (TTL)            |
//! | outbox    | `OUTBOX`                | `<alert instant>#<alert id>`         | `message`, `claimed_until`    |
//! | day figures | `DAY#<team>#<date>#<shard>` | `DAY`                            | `met_<clock>`, `breached_<clock>`, `held_s`, `held_business_s` (added up), `expires_at`; 8 shards by case |
//! | digest record | `DIGEST#<digest id>` | `DIGEST`                            | `expires_at`: the digest was written to the outbox |
//!
//! Open case items carry `open_team` (the owner) and `attention` (`1#<case>` when a digest may list
//! it), the keys of the sparse `open` index, so the cases a team's digest lists are one `Query` of
//! the `1#` half of its index partition and a `BatchGetItem` of their items.
//!
//! A save is one `TransactWriteItems`: every case put on the condition of its version, the dedupe
//! item on `attribute_not_exists`, the references and the timeline events beside them. When the
//! events do not fit in one transaction's 100 items (a merge, a rebuild of a long case), they are
//! packed into segment items of the same transaction, so the write stays atomic. `v` is the case
//! version that wrote an event; reading the timeline keeps, per event, the copy with the highest `v`
//! not above the case's version, which also hides a write that lands while the pages are read.
//!
//! An erasure replaces a case's whole timeline: the new events are written at the next version, and
//! the case item's `timeline_from` makes reads ignore every older timeline item, which are then
//! deleted. A closed case past its retention is deleted item by item (the case item first, on its
//! version).
//!
//! Loading a case is one consistent `GetItem`: the case item carries the recent events the rules
//! need. The whole timeline is one paginated `Query` of the case's partition.

mod items;
mod keys;
mod record;
pub mod table;
mod usage;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Delete, DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
    TransactWriteItem, WriteRequest,
};
use jiff::Timestamp;
use serde_dynamo::aws_sdk_dynamodb_1::{from_attribute_value, from_item, to_attribute_value};

use self::record::CaseRecord;
use self::table::{
    ATTENTION, DUE_AT, DUE_INDEX, DUE_SHARD, DUE_SHARDS, OPEN_INDEX, OPEN_TEAM, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE,
};
use super::{
    Cases, Change, Key, Limiter, OutboxEntry, Record, Remove, SaveError, Schedule, StoreError, Teams, Write,
    limit_window,
};
use crate::domain::case::{Case, Event, Whole};
use crate::domain::ids::{CaseId, Identity, TeamId};
use crate::domain::measure::DayFigures;
use crate::notify::Outbound;

type Item = HashMap<String, AttributeValue>;

use self::items::*;
pub use self::keys::instant;
use self::keys::*;
pub use self::usage::{Items, Usage, item_size};

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    usage: Arc<Mutex<Usage>>,
}

/// A client for a local endpoint (DynamoDB Local); see [`crate::config::local_aws`].
pub fn local_client(endpoint: &str) -> Client {
    Client::new(&crate::config::local_aws(endpoint))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), usage: Arc::default() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The client, for what the store does not offer (benchmarks compare other access patterns).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// What this store (and its clones) has used so far.
    pub fn usage(&self) -> Usage {
        *self.usage.lock().expect("usage lock")
    }

    /// Counts a request and the capacity it consumed; returns the write units of it that went to
    /// the indexes.
    fn count<'a>(&self, read: bool, capacity: impl IntoIterator<Item = &'a ConsumedCapacity>) -> f64 {
        let mut usage = self.usage.lock().expect("usage lock");
        usage.requests += 1;
        let mut index_units = 0.0;
        for c in capacity {
            let total = c.capacity_units().unwrap_or(0.0);
            if !read {
                let indexes = c.global_secondary_indexes().into_iter().flat_map(|i| i.values());
                index_units += indexes.filter_map(|i| i.capacity_units()).sum::<f64>();
            }
            match (c.read_capacity_units(), c.write_capacity_units()) {
                (None, None) if read => usage.read_units += total,
                (None, None) => usage.write_units += total,
                (r, w) => {
                    usage.read_units += r.unwrap_or(0.0);
                    usage.write_units += w.unwrap_or(0.0);
                }
            }
        }
        usage.index_write_units += index_units;
        index_units
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(pk))
            .key(SORT_KEY, AttributeValue::S(sk.to_string()))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        self.count(true, out.consumed_capacity());
        Ok(out.item)
    }

    /// Every item of a partition, page by page.
    async fn partition(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            self.count(true, out.consumed_capacity());
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// The items at these keys (partition key, sort key) that exist, by consistent `BatchGetItem`s of
    /// 100 keys, asking again for what DynamoDB leaves unprocessed; in no particular order.
    async fn batch_get(&self, keys: Vec<(String, &str)>) -> Result<Vec<Item>, StoreError> {
        let found: Mutex<Vec<Item>> = Mutex::default();
        for chunk in keys.chunks(100) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for (pk, sk) in chunk {
                request = request.keys(HashMap::from([
                    (PARTITION_KEY.to_string(), AttributeValue::S(pk.clone())),
                    (SORT_KEY.to_string(), AttributeValue::S((*sk).to_string())),
                ]));
            }
            let request = request.build().map_err(|e| StoreError::Backend(Box::new(e)))?;
            let found = &found;
            until_processed("BatchGetItem", request, |keys| async move {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| backend("BatchGetItem", e))?;
                self.count(true, out.consumed_capacity());
                let items = out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
                found.lock().expect("batch lock").extend(items);
                Ok(out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty()))
            })
            .await?;
        }
        Ok(found.into_inner().expect("batch lock"))
    }

    /// The due keys of one shard: all at or before `until`, or the first one.
    async fn shard(&self, shard: u32, until: Option<Timestamp>) -> Result<Vec<(String, CaseId)>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .expression_attribute_names("#shard", DUE_SHARD)
                .expression_attribute_values(":shard", AttributeValue::S(format!("DUE#{shard}")))
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            query = match until {
                Some(until) => query
                    .key_condition_expression("#shard = :shard AND #at <= :until")
                    .expression_attribute_names("#at", DUE_AT)
                    .expression_attribute_values(":until", AttributeValue::S(instant(until))),
                None => query.key_condition_expression("#shard = :shard").limit(1),
            };
            let out = query.send().await.map_err(|e| backend("Query", e))?;
            self.count(true, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let due_at = string(&item, DUE_AT)?;
                let id = case_id(&string(&item, PARTITION_KEY)?)?;
                found.push((due_at, id));
            }
            start = out.last_evaluated_key;
            if start.is_none() || until.is_none() {
                return Ok(found);
            }
        }
    }

    async fn shards(&self, until: Option<Timestamp>) -> Result<Vec<(String, CaseId)>, StoreError> {
        let queries = (0..DUE_SHARDS).map(|s| self.shard(s, until));
        let mut all: Vec<(String, CaseId)> =
            futures::future::try_join_all(queries).await?.into_iter().flatten().collect();
        all.sort();
        Ok(all)
    }

    /// Sets an outbox message's claim to `to` if it still is `held`; whether it was.
    async fn swap_claim(&self, sk: String, held: String, to: Timestamp) -> Result<bool, StoreError> {
        let swapped = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(OUTBOX.into()))
            .key(SORT_KEY, AttributeValue::S(sk))
            .update_expression("SET claimed_until = :to")
            .condition_expression("claimed_until = :held")
            .expression_attribute_values(":to", AttributeValue::S(instant(to)))
            .expression_attribute_values(":held", AttributeValue::S(held))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match swapped {
            Ok(out) => {
                self.count(false, out.consumed_capacity());
                Ok(true)
            }
            Err(e) => {
                self.count(false, []);
                let e = e.into_service_error();
                if e.is_conditional_check_failed_exception() { Ok(false) } else { Err(backend("UpdateItem", e)) }
            }
        }
    }

    /// Sends one transaction, counting what it used. A failed condition is `AlreadySeen` when it is
    /// the dedupe item's (the item at `seen_at`), else `Conflict`, as is a conflict with another
    /// transaction.
    async fn transact(&self, items: Vec<TransactWriteItem>, seen_at: Option<usize>) -> Result<(), SaveError> {
        let billed = usage::transaction_units(&items);
        let kinds = usage::transaction_items(&items);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match result {
            Ok(out) => {
                let index_units = self.count(false, out.consumed_capacity().iter());
                let mut usage = self.usage.lock().expect("usage lock");
                usage.billed_write_units += billed + index_units;
                usage.items = usage.items + kinds;
                Ok(())
            }
            Err(error) => {
                self.count(false, []);
                let error = error.into_service_error();
                let TransactWriteItemsError::TransactionCanceledException(cancelled) = &error else {
                    return Err(backend("TransactWriteItems", error).into());
                };
                let codes: Vec<&str> =
                    cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("")).collect();
                if seen_at.is_some_and(|i| codes.get(i) == Some(&"ConditionalCheckFailed")) {
                    return Err(SaveError::AlreadySeen);
                }
                if codes.iter().any(|c| *c == "ConditionalCheckFailed" || *c == "TransactionConflict") {
                    return Err(SaveError::Conflict);
                }
                Err(backend("TransactWriteItems", error).into())
            }
        }
    }

    /// [`replace`](Store::replace) for a timeline too large for one transaction, in steps that can
    /// fail and run again: the new timeline first, in segments at a version far past the case's, so
    /// that no read sees them; then the case item, on its version, switching to that version and to
    /// that timeline; the old items are deleted after. A run that fails before the switch leaves
    /// segments nobody reads, which the next run's deletion takes away. Returns the new version.
    async fn replace_in_steps(&self, change: &Change<'_>) -> Result<u64, SaveError> {
        let from = change.expected + 1 + INVISIBLE_VERSIONS;
        let case = change.case.clone().with_timeline_from(from);
        let pk = case_pk(case.id());
        let mut segments = Vec::new();
        let mut segment: Vec<&Event> = Vec::new();
        let mut bytes = 0;
        for event in &change.events {
            let size = serde_json::to_vec(event).map_or(MAX_SEGMENT_BYTES, |j| j.len()) + 64;
            if !segment.is_empty() && bytes + size > MAX_SEGMENT_BYTES {
                segments.push(std::mem::take(&mut segment));
                bytes = 0;
            }
            segment.push(event);
            bytes += size;
        }
        segments.extend((!segment.is_empty()).then_some(segment));
        let mut items = Vec::new();
        for (n, segment) in segments.iter().enumerate() {
            items.push(HashMap::from([
                (PARTITION_KEY.to_string(), AttributeValue::S(pk.clone())),
                (SORT_KEY.to_string(), AttributeValue::S(format!("SEG#{from:012}#{n:04}"))),
                ("v".to_string(), AttributeValue::N(from.to_string())),
                ("events".to_string(), to_attribute_value(segment).map_err(|e| corrupt(&pk, e))?),
            ]));
        }
        self.put_all(items).await?;
        let switch = Change { case: &case, expected: change.expected, events: Vec::new(), new_identities: Vec::new() };
        self.transact(vec![case_put(&self.table, &switch, from)?], None).await?;
        Ok(from)
    }

    /// Deletes items by key (see [`batch_write`](Self::batch_write)).
    async fn delete_all(&self, keys: Vec<(String, String)>) -> Result<(), StoreError> {
        let requests = keys
            .into_iter()
            .map(|(pk, sk)| {
                let key = HashMap::from([
                    (PARTITION_KEY.to_string(), AttributeValue::S(pk)),
                    (SORT_KEY.to_string(), AttributeValue::S(sk)),
                ]);
                let delete = DeleteRequest::builder().set_key(Some(key)).build();
                delete.map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.batch_write(requests).await
    }

    /// Puts items, unconditionally (see [`batch_write`](Self::batch_write)).
    async fn put_all(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build();
                put.map(|p| WriteRequest::builder().put_request(p).build())
            })
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.batch_write(requests).await
    }

    /// Writes requests 25 to a `BatchWriteItem`, asking again for those DynamoDB leaves.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            until_processed("BatchWriteItem", chunk.to_vec(), |requests| async move {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| backend("BatchWriteItem", e))?;
                self.count(false, out.consumed_capacity());
                Ok(out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).filter(|r| !r.is_empty()))
            })
            .await?;
        }
        Ok(())
    }

    /// Deletes the keys that still point at case `id`.
    async fn forget_pointing(&self, id: &CaseId, keys: &[Key]) -> Result<(), StoreError> {
        for key in keys {
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(PARTITION_KEY, AttributeValue::S(ref_pk(key)))
                .key(SORT_KEY, AttributeValue::S("REF".into()))
                .condition_expression("#case = :case")
                .expression_attribute_names("#case", "case")
                .expression_attribute_values(":case", AttributeValue::S(id.to_string()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            match deleted {
                Ok(out) => {
                    self.count(false, out.consumed_capacity());
                }
                Err(e) => {
                    self.count(false, []);
                    let e = e.into_service_error();
                    // The key points at another case now (or is gone): leave it.
                    if !e.is_conditional_check_failed_exception() {
                        return Err(backend("DeleteItem", e));
                    }
                }
            }
        }
        Ok(())
    }

    /// The keys of a case's timeline items (events and segments) written before version `before`.
    async fn timeline_items(&self, id: &CaseId, before: u64) -> Result<Vec<(String, String)>, StoreError> {
        let pk = case_pk(id);
        let mut keys = Vec::new();
        for item in self.partition(&pk).await? {
            let sk = string(&item, SORT_KEY)?;
            if (sk.starts_with("EV#") || sk.starts_with("SEG#")) && number(&item, "v")? < before {
                keys.push((pk.clone(), sk));
            }
        }
        Ok(keys)
    }

    /// An item as a person or a test reads it: a case item's compact record (see [`record`]) opened
    /// into the attributes it holds; any other item as it is.
    pub fn readable(item: &Item) -> Result<Item, StoreError> {
        let Some(record) = Self::compact_record(item)? else { return Ok(item.clone()) };
        let mut opened: Item =
            serde_dynamo::aws_sdk_dynamodb_1::to_item(&record).map_err(|e| corrupt(&describe(item), e))?;
        opened.extend(item.iter().filter(|(name, _)| *name != record::COMPACT).map(|(n, v)| (n.clone(), v.clone())));
        Ok(opened)
    }

    /// A case item's compact record (see [`record`]), at the item's version; `None` for an item
    /// without one (written in the attribute form, or not a case item).
    fn compact_record(item: &Item) -> Result<Option<CaseRecord>, StoreError> {
        match item.get(record::COMPACT) {
            None => Ok(None),
            Some(AttributeValue::B(compact)) => CaseRecord::from_compact(compact.as_ref(), number(item, "version")?)
                .map(Some)
                .map_err(|e| corrupt(&describe(item), e)),
            Some(_) => Err(corrupt(&describe(item), format!("`{}` is not binary", record::COMPACT))),
        }
    }

    /// Reads a case item, in either of its forms (see [`record`]), into a case without its history.
    fn case_of(item: Item) -> Result<Case, StoreError> {
        let key = string(&item, PARTITION_KEY)?;
        let events = number(&item, "events")?;
        let record = match Self::compact_record(&item)? {
            Some(record) => record,
            None => from_item(item).map_err(|e| corrupt(&key, e))?,
        };
        let omitted = events.saturating_sub(record.timeline.len() as u64);
        Ok(record.into_case().with_omitted(omitted))
    }
}

/// One conditional update per use: `ADD` one to the window's counter unless it reached the limit.
/// The item expires (TTL) a day after its window ends.
impl Limiter for DynamoStore {
    async fn take(&self, key: &str, limit: u32, window: Duration, now: Timestamp) -> Result<bool, StoreError> {
        let (index, ends) = limit_window(window, now);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(limit_pk(key, window, index)))
            .key(SORT_KEY, AttributeValue::S("LIMIT".into()))
            .update_expression("ADD #used :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#used) OR #used < :limit")
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(ends.saturating_add(86_400).to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.count(false, out.consumed_capacity());
                Ok(true)
            }
            Err(error) => {
                self.count(false, []);
                match error.into_service_error() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_) => {
                        Ok(false)
                    }
                    other => Err(backend("UpdateItem", other)),
                }
            }
        }
    }
}

impl Cases for DynamoStore {
    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        self.get(case_pk(id), "CASE").await?.map(Self::case_of).transpose()
    }

    /// The case items in `BatchGetItem`s of 100 (read consistently, as `load`).
    async fn load_many(&self, ids: &[CaseId]) -> Result<Vec<Option<Case>>, StoreError> {
        let items = self.batch_get(ids.iter().map(|id| (case_pk(id), "CASE")).collect()).await?;
        let mut found: HashMap<CaseId, Case> = HashMap::with_capacity(items.len());
        for item in items {
            let case = Self::case_of(item)?;
            found.insert(case.id().clone(), case);
        }
        Ok(ids.iter().map(|id| found.remove(id)).collect())
    }

    async fn load_whole(&self, id: &CaseId) -> Result<Option<Whole>, StoreError> {
        let pk = case_pk(id);
        // A write that lands while the pages are read shows as a count that does not add up: read again.
        for _ in 0..3 {
            let items = self.partition(&pk).await?;
            let mut case = None;
            let mut events: BTreeMap<(Timestamp, String, &'static str), (u64, Event)> = BTreeMap::new();
            let mut keep = |v: u64, event: Event| {
                // The timeline's own order (`Event::order`), whatever order the items came in.
                let (at, source, kind) = event.order();
                let key = (at, source.to_string(), kind);
                if events.get(&key).is_none_or(|(old, _)| *old < v) {
                    events.insert(key, (v, event));
                }
            };
            let mut pending = Vec::new();
            for item in items {
                let sk = string(&item, SORT_KEY)?;
                if sk == "CASE" {
                    case = Some((number(&item, "events")?, Self::case_of(item)?));
                } else if sk.starts_with("EV#") {
                    let v = number(&item, "v")?;
                    pending.push((v, from_item::<Event>(item).map_err(|e| corrupt(&sk, e))?));
                } else if sk.starts_with("SEG#") {
                    let v = number(&item, "v")?;
                    let list = item.get("events").cloned().ok_or_else(|| corrupt(&sk, "no events"))?;
                    let list: Vec<Event> = from_attribute_value(list).map_err(|e| corrupt(&sk, e))?;
                    pending.extend(list.into_iter().map(|e| (v, e)));
                }
            }
            let Some((count, case)) = case else { return Ok(None) };
            let (from, to) = (case.timeline_from(), case.version());
            for (v, event) in pending.into_iter().filter(|(v, _)| (from..=to).contains(v)) {
                keep(v, event);
            }
            if events.len() as u64 == count {
                return Ok(Some(case.with_whole_timeline(events.into_values().map(|(_, e)| e).collect())));
            }
        }
        Err(StoreError::Corrupt { key: pk, reason: "its event count does not match its timeline".into() })
    }

    async fn lookup_many(&self, keys: &[Key]) -> Result<Vec<Option<CaseId>>, StoreError> {
        let mut wanted: Vec<String> = keys.iter().map(ref_pk).collect();
        wanted.sort();
        wanted.dedup();
        let mut found: HashMap<String, CaseId> = HashMap::new();
        let items = self.batch_get(wanted.into_iter().map(|pk| (pk, "REF")).collect()).await?;
        for item in items {
            let pk = string(&item, PARTITION_KEY)?;
            found.insert(pk, case_id(&format!("CASE#{}", string(&item, "case")?))?);
        }
        Ok(keys.iter().map(|key| found.get(&ref_pk(key)).cloned()).collect())
    }
}

/// An outbox entry's put: the message and its claim.
fn outbox_put(table: &str, entry: &OutboxEntry) -> Result<TransactWriteItem, StoreError> {
    let mut item: Item = HashMap::from([
        (PARTITION_KEY.to_string(), AttributeValue::S(OUTBOX.into())),
        (SORT_KEY.to_string(), AttributeValue::S(outbox_sk(&entry.message))),
        ("claimed_until".to_string(), AttributeValue::S(instant(entry.claimed_until))),
    ]);
    let message = to_attribute_value(&entry.message).map_err(|e| corrupt(OUTBOX, e))?;
    item.insert("message".into(), message);
    put(table, item, None, None)
}

/// Runs a batch request until DynamoDB has processed all of it: `call` sends what is pending and
/// returns what DynamoDB left unprocessed, which is sent again after a growing pause, 10 times at most.
async fn until_processed<T, F, Fut>(operation: &str, pending: T, mut call: F) -> Result<(), StoreError>
where
    F: FnMut(T) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
{
    let mut pending = Some(pending);
    for attempt in 0u32..10 {
        let Some(now) = pending.take() else { return Ok(()) };
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(20 << attempt.min(6))).await;
        }
        pending = call(now).await?;
    }
    match pending {
        None => Ok(()),
        Some(_) => Err(StoreError::Backend(format!("{operation}: still unprocessed after 10 attempts").into())),
    }
}

impl Record for DynamoStore {
    async fn save(&self, write: Write<'_>) -> Result<(), SaveError> {
        let table = self.table.as_str();
        let mut items = Vec::new();
        let mut seen_at = None;
        for change in &write.cases {
            items.push(case_put(table, change, change.expected + 1)?);
        }
        if let Some(source) = &write.seen {
            let expires = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default() + SEEN_TTL;
            let item = HashMap::from([
                (PARTITION_KEY.to_string(), AttributeValue::S(seen_pk(source))),
                (SORT_KEY.to_string(), AttributeValue::S("SEEN".into())),
                (TTL_ATTRIBUTE.to_string(), AttributeValue::N(expires.as_secs().to_string())),
            ]);
            seen_at = Some(items.len());
            items.push(put(table, item, Some("attribute_not_exists(#pk)"), None)?);
        }
        // One operation per item in a transaction: a key named twice keeps its last target.
        let keys: BTreeMap<String, (&Key, &CaseId)> =
            write.keys.iter().map(|(key, id)| (ref_pk(key), (key, id))).collect();
        for (pk, (key, id)) in keys {
            let item = HashMap::from([
                (PARTITION_KEY.to_string(), AttributeValue::S(pk)),
                (SORT_KEY.to_string(), AttributeValue::S("REF".into())),
                ("case".to_string(), AttributeValue::S(id.to_string())),
            ]);
            // A message reference belongs to the case that recorded it first: a sender who reuses a
            // known Message-ID cannot steer later replies to their own case. (A customer's key points
            // at their latest case, and moves.)
            let first_writer = matches!(key, Key::Message(_))
                .then_some(("attribute_not_exists(#pk) OR #case = :expected", AttributeValue::S(id.to_string())));
            let (condition, expected) = first_writer.unzip();
            items.push(put(table, item, condition, expected)?);
        }
        for change in &write.cases {
            for identity in &change.new_identities {
                items.push(put(table, customer_index(identity, change.case.id()), None, None)?);
            }
        }
        for entry in &write.outbox {
            items.push(outbox_put(table, entry)?);
        }
        // The shard of the (first) case written: one case's changes always add to one shard.
        let shard = write.cases.first().map_or(0, |c| c.case.id().shard(FIGURE_SHARDS));
        for ((team, day), figures) in &write.figures {
            if !figures.is_empty() {
                items.push(figures_update(table, (team, *day, shard), figures)?);
            }
        }
        items.extend(timeline_puts(table, &write.cases, items.len())?);
        self.transact(items, seen_at).await
    }

    async fn was_seen(&self, source: &str) -> Result<bool, StoreError> {
        Ok(self.get(seen_pk(source), "SEEN").await?.is_some())
    }
}

impl Teams for DynamoStore {
    /// One `Query` of the `1#` half of the team's partition of the sparse `open` index (keys only,
    /// a page per 1 MB), then the case items by `BatchGetItem`, 100 at a time: the cost grows with
    /// the team's cases that need its lead, never with the table nor with its quiet cases.
    async fn attention_cases(&self, team: &TeamId) -> Result<Vec<Case>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(OPEN_INDEX)
                .key_condition_expression("#team = :team AND begins_with(#attention, :listed)")
                .expression_attribute_names("#team", OPEN_TEAM)
                .expression_attribute_names("#attention", ATTENTION)
                .expression_attribute_values(":team", AttributeValue::S(team.to_string()))
                .expression_attribute_values(":listed", AttributeValue::S("1#".into()))
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            self.count(true, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                ids.push(string(&item, PARTITION_KEY)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let items = self.batch_get(ids.into_iter().map(|pk| (pk, "CASE")).collect()).await?;
        let mut cases = items.into_iter().map(Self::case_of).collect::<Result<Vec<Case>, _>>()?;
        // The index is read eventually consistent: a case closed or handed on a moment ago may
        // still be listed there; its item, read consistently, says so.
        cases.retain(|c| c.owner() == team && crate::domain::digest::may_list(c));
        cases.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(cases)
    }

    /// The day's shards in one `BatchGetItem`, added up.
    async fn figures(&self, team: &TeamId, day: jiff::civil::Date) -> Result<DayFigures, StoreError> {
        let keys = (0..FIGURE_SHARDS).map(|shard| (day_pk(team, day, shard), "DAY")).collect();
        let mut total = DayFigures::default();
        for item in self.batch_get(keys).await? {
            total.add(&figures_of(&item)?);
        }
        Ok(total)
    }

    async fn digest_recorded(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.get(digest_pk(id), "DIGEST").await?.is_some())
    }

    /// The digest's record (on `attribute_not_exists`) and its outbox item in one transaction: of
    /// two runs at once, one writes both and the other nothing.
    async fn record_digest(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
        let table = self.table.as_str();
        let expires = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default() + DAY_TTL;
        let record = HashMap::from([
            (PARTITION_KEY.to_string(), AttributeValue::S(digest_pk(&entry.message.id))),
            (SORT_KEY.to_string(), AttributeValue::S("DIGEST".into())),
            (TTL_ATTRIBUTE.to_string(), AttributeValue::N(expires.as_secs().to_string())),
        ]);
        let items = vec![put(table, record, Some("attribute_not_exists(#pk)"), None)?, outbox_put(table, &entry)?];
        match self.transact(items, Some(0)).await {
            Ok(()) => Ok(true),
            // Recorded by another run, or being recorded by one right now (the next run looks again).
            Err(SaveError::AlreadySeen | SaveError::Conflict) => Ok(false),
            Err(SaveError::Store(e)) => Err(e),
        }
    }
}

impl Schedule for DynamoStore {
    async fn due(&self, now: Timestamp) -> Result<Vec<CaseId>, StoreError> {
        Ok(self.shards(Some(now)).await?.into_iter().map(|(_, id)| id).collect())
    }

    async fn earliest_due(&self) -> Result<Option<Timestamp>, StoreError> {
        match self.shards(None).await?.into_iter().next() {
            Some((at, id)) => at.parse().map(Some).map_err(|e| corrupt(&case_pk(&id), e)),
            None => Ok(None),
        }
    }

    async fn claim_outbox(&self, now: Timestamp, until: Timestamp) -> Result<Vec<Outbound>, StoreError> {
        let mut claimed = Vec::new();
        for item in self.partition(OUTBOX).await? {
            let sk = string(&item, SORT_KEY)?;
            let held = string(&item, "claimed_until")?;
            if held > instant(now) {
                continue;
            }
            let message = item.get("message").cloned().ok_or_else(|| corrupt(&sk, "no message"))?;
            let message: Outbound = from_attribute_value(message).map_err(|e| corrupt(&sk, e))?;
            // Compare and set: of two sweeps taking the same message, one gets it.
            if self.swap_claim(sk, held, until).await? {
                claimed.push(message);
            }
        }
        Ok(claimed)
    }

    async fn sent(&self, message: &Outbound) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(OUTBOX.into()))
            .key(SORT_KEY, AttributeValue::S(outbox_sk(message)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| backend("DeleteItem", e))?;
        self.count(false, out.consumed_capacity());
        Ok(())
    }

    async fn sent_all(&self, messages: &[&Outbound]) -> Result<(), StoreError> {
        self.delete_all(messages.iter().map(|m| (OUTBOX.to_string(), outbox_sk(m))).collect()).await
    }

    async fn release(&self, message: &Outbound, claimed_until: Timestamp) -> Result<(), StoreError> {
        // If another sweep took it over meanwhile, there is nothing to give up.
        self.swap_claim(outbox_sk(message), instant(claimed_until), Timestamp::UNIX_EPOCH).await.map(drop)
    }
}

impl Remove for DynamoStore {
    async fn cases_of(&self, identity: &Identity) -> Result<Vec<CaseId>, StoreError> {
        let mut cases = Vec::new();
        for item in self.partition(&ref_pk(&Key::Customer(identity.clone()))).await? {
            cases.push(case_id(&format!("CASE#{}", string(&item, "case")?))?);
        }
        cases.sort();
        cases.dedup();
        Ok(cases)
    }

    async fn forget(&self, keys: &[Key], only_to: Option<&CaseId>) -> Result<(), StoreError> {
        match only_to {
            Some(id) => self.forget_pointing(id, keys).await,
            None => self.delete_all(keys.iter().map(|k| (ref_pk(k), "REF".to_string())).collect()).await,
        }
    }

    async fn unsee(&self, sources: &[String]) -> Result<(), StoreError> {
        self.delete_all(sources.iter().map(|s| (seen_pk(s), "SEEN".to_string())).collect()).await
    }

    async fn unindex(&self, identity: &Identity, cases: &[CaseId]) -> Result<(), StoreError> {
        let pk = ref_pk(&Key::Customer(identity.clone()));
        self.delete_all(cases.iter().map(|id| (pk.clone(), index_sk(id))).collect()).await
    }

    async fn replace(&self, change: Change<'_>) -> Result<(), SaveError> {
        // The new timeline is written at the next version and the case item says so
        // (`timeline_from`): from that write on, reads ignore the older timeline items, which are
        // deleted after it.
        let from = change.expected + 1;
        let case = change.case.clone().with_timeline_from(from);
        let one = Change {
            case: &case,
            expected: change.expected,
            events: change.events.clone(),
            new_identities: change.new_identities.clone(),
        };
        let mut items = vec![case_put(&self.table, &one, from)?];
        let from = match timeline_puts(&self.table, std::slice::from_ref(&one), items.len()) {
            Ok(puts) => {
                items.extend(puts);
                self.transact(items, None).await?;
                from
            }
            Err(StoreError::TooLarge { .. }) => self.replace_in_steps(&change).await?,
            Err(e) => return Err(e.into()),
        };
        Ok(self.delete_all(self.timeline_items(case.id(), from).await?).await?)
    }

    async fn purge(&self, case: &Case) -> Result<(), SaveError> {
        // The case item on its version (a signal that lands meanwhile wins), with as many of its
        // timeline items as fit in the transaction, then the rest.
        let mut rest = self.timeline_items(case.id(), u64::MAX).await?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(case_pk(case.id())))
            .key(SORT_KEY, AttributeValue::S("CASE".into()))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(case.version().to_string()))
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        let later = rest.split_off(rest.len().min(MAX_TRANSACTION_ITEMS - 1));
        for (pk, sk) in rest {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(PARTITION_KEY, AttributeValue::S(pk))
                .key(SORT_KEY, AttributeValue::S(sk))
                .build()
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.transact(items, None).await?;
        Ok(self.delete_all(later).await?)
    }
}
