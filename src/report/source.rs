//! Where a report's cases come from: the replay of a timeline (the in-memory store the replay
//! made), or a DynamoDB table, read with a parallel `Scan` for the case items and then each case
//! whole. A scan reads every item of the table (events, references, dedupe items), so its cost
//! grows with the table, not with the cases reported; the caller says what it cost.

use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use futures::StreamExt;
use indicatif::ProgressBar;
use jiff::{SignedDuration, Timestamp};

use crate::domain::case::Whole;
use crate::domain::ids::CaseId;
use crate::domain::policy::Policy;
use crate::replay::{self, Line, ReplayError};
use crate::store::dynamo::table::{PARTITION_KEY, SORT_KEY};
use crate::store::dynamo::{DynamoStore, Usage};
use crate::store::{Cases, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("case {0} came without its whole timeline")]
    NotWhole(CaseId),
    #[error("scanning table {table}: {reason}")]
    Scan { table: String, reason: String },
}

/// The cases of a replayed timeline, and the instant the replay ran to.
#[derive(Debug)]
pub struct Replayed {
    pub cases: Vec<Whole>,
    /// `None` for an empty timeline.
    pub until: Option<Timestamp>,
}

/// Replays `lines` (quietly) and returns every case the replay made, whole: those it opened and the
/// continuations of full cases. A case the sweep deleted after the policy's retention is gone. The replay runs to its
/// usual end (14 days after the last line), or to just past `to` if that is later, so that every
/// breach due before `to` was raised by a sweep.
pub async fn replay(lines: &[Line], policy: Arc<Policy>, to: Option<Timestamp>) -> Result<Replayed, SourceError> {
    let last = lines.iter().map(|l| l.at).max();
    let until = match (last, to) {
        (Some(last), Some(to)) => Some((last + replay::DEFAULT_TAIL).max(to + SignedDuration::from_mins(1))),
        _ => None,
    };
    let options = replay::Options { until, json: true, ..replay::Options::default() };
    let report = replay::run(lines, policy, &options, &mut std::io::sink()).await?;
    let cases = report
        .cases
        .into_iter()
        .chain(report.continuations)
        .map(|case| case.into_whole().map_err(|c| SourceError::NotWhole(c.id().clone())))
        .collect::<Result<_, _>>()?;
    Ok(Replayed { cases, until: report.until })
}

/// The cases of a table and what reading them cost.
#[derive(Debug)]
pub struct TableRead {
    pub cases: Vec<Whole>,
    /// Items the scan read (every kind), and the scan's requests and read units.
    pub scanned_items: u64,
    pub scan: Usage,
    /// Loading each case whole (a query of its partition).
    pub load: Usage,
}

/// Reads every case of the store's table: a `Scan` in `segments` parallel segments for the case
/// items (only their keys come back), then each case whole, eight at a time. `progress` counts the
/// cases loaded.
pub async fn table(store: &DynamoStore, segments: u32, progress: &ProgressBar) -> Result<TableRead, SourceError> {
    let segments = segments.clamp(1, 1_000_000);
    let scans = (0..segments).map(|segment| scan_segment(store, segment, segments, progress));
    let mut ids = Vec::new();
    let mut scan = Usage::default();
    let mut scanned_items = 0;
    for (found, items, usage) in futures::future::try_join_all(scans).await? {
        ids.extend(found);
        scanned_items += items;
        scan = scan + usage;
    }
    ids.sort();
    progress.set_length(ids.len() as u64);
    progress.set_position(0);
    progress.set_message("loading cases");
    let before = store.usage();
    let mut loaded: Vec<Whole> = Vec::with_capacity(ids.len());
    let mut loads = futures::stream::iter(ids.iter()).map(|id| store.load_whole(id)).buffer_unordered(8);
    while let Some(case) = loads.next().await {
        // A case deleted between the scan and its load (the sweep's purge) is not reported.
        if let Some(case) = case? {
            loaded.push(case);
        }
        progress.inc(1);
    }
    drop(loads);
    progress.finish_and_clear();
    loaded.sort_by(|a, b| (a.opened_at(), a.id()).cmp(&(b.opened_at(), b.id())));
    Ok(TableRead { cases: loaded, scanned_items, scan, load: store.usage() - before })
}

/// One segment of the scan: the ids of its case items, the items it read, and what it used.
async fn scan_segment(
    store: &DynamoStore,
    segment: u32,
    segments: u32,
    progress: &ProgressBar,
) -> Result<(Vec<CaseId>, u64, Usage), SourceError> {
    let fail = |reason: String| SourceError::Scan { table: store.table().to_string(), reason };
    let mut ids = Vec::new();
    let mut usage = Usage::default();
    let mut items = 0;
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .segment(i32::try_from(segment).unwrap_or(i32::MAX))
            .total_segments(i32::try_from(segments).unwrap_or(i32::MAX))
            .filter_expression("#sk = :case AND begins_with(#pk, :prefix)")
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":case", AttributeValue::S("CASE".into()))
            .expression_attribute_values(":prefix", AttributeValue::S("CASE#".into()))
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
        usage.requests += 1;
        if let Some(c) = out.consumed_capacity() {
            usage.read_units += c.read_capacity_units().or(c.capacity_units()).unwrap_or(0.0);
        }
        items += u64::try_from(out.scanned_count()).unwrap_or(0);
        for item in out.items() {
            let id = item
                .get(PARTITION_KEY)
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.strip_prefix("CASE#"))
                .and_then(|id| id.parse::<CaseId>().ok())
                .ok_or_else(|| fail(format!("a case item with an unreadable key: {item:?}")))?;
            ids.push(id);
            progress.inc(1);
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok((ids, items, usage));
        }
    }
}
