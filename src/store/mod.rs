//! Where cases live. One trait per need, so that each use case asks only for what it uses: read
//! cases ([`Cases`]), record changes ([`Record`]), the due index and outbox ([`Schedule`]), and
//! remove what names a customer or a case ([`Remove`]), a team's open cases, figures and digests
//! ([`Teams`]); [`Store`] is all of them. [`memory::MemoryStore`] serves the replay and the engine tests;
//! [`dynamo::DynamoStore`] serves the functions. Both keep the same promises, so the replay shows
//! what the functions do.

pub mod dynamo;
pub mod memory;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::domain::case::{Case, Event, Whole};
use crate::domain::ids::{CaseId, Identity, MessageRef, TeamId};
use crate::domain::measure::{DayFigures, Figures};
use crate::notify::Outbound;

/// A lookup key pointing at a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A message the case holds: replies thread to it.
    Message(MessageRef),
    /// A customer identity: their latest case.
    Customer(Identity),
}

/// One atomic change: cases, keys to point at cases, and the source id of the signal, so that a
/// retried delivery has no second effect.
#[derive(Debug, Default)]
pub struct Write<'a> {
    pub cases: Vec<Change<'a>>,
    pub keys: Vec<(Key, CaseId)>,
    pub seen: Option<Arc<str>>,
    /// Alerts to publish once the write is done.
    pub outbox: Vec<OutboxEntry>,
    /// What the change adds to each team's figures of the day ([`crate::domain::measure::tally`]): added up in
    /// the same atomic step, so a retried delivery cannot count twice.
    pub figures: Figures,
}

/// An alert in the outbox: written with the ladder step that raised it, removed once published.
/// The sweep that wrote or took it holds it until `claimed_until`; other sweeps leave it alone until
/// then, and take it over after (a sweep that crashed before publishing).
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub message: Outbound,
    pub claimed_until: Timestamp,
}

/// Timelines up to this long are searched one event after another rather than through a hash set.
const SMALL: usize = 32;

/// A case as it is to be stored, the version it was read at (0 for a new case), and the timeline
/// events to write: the new ones, and those a rebuild changed (their owner or marks).
#[derive(Debug)]
pub struct Change<'a> {
    pub case: &'a Case,
    pub expected: u64,
    pub events: Vec<&'a Event>,
    /// Customer identities the case holds now and did not before: the store indexes them, so that
    /// [`Store::cases_of`] finds every case a customer had.
    pub new_identities: Vec<&'a Identity>,
}

impl<'a> Change<'a> {
    /// The change from `before`, the case as it was loaded (`None` for a new case), to `after`.
    pub fn new(before: Option<&Case>, after: &'a Case) -> Self {
        let old = before.map_or(&[][..], |b| b.timeline());
        // The events a change left alone are the ones the case was loaded with, shared and not
        // copied: found by their address, without reading them (reading them, from cases spread over
        // memory, was most of this). Only the others are compared by value, since a rebuild makes
        // equal events anew; an event equal to a stored one has its order too, so it is not written.
        let fresh: Vec<&Event> = if old.len() <= SMALL {
            after.timeline().iter().filter(|e| !old.iter().any(|o| o.address() == e.address())).collect()
        } else {
            let shared: HashSet<(usize, usize)> = old.iter().map(Event::address).collect();
            after.timeline().iter().filter(|e| !shared.contains(&e.address())).collect()
        };
        let events = if fresh.is_empty() || old.is_empty() {
            fresh
        } else if fresh.len() * old.len() <= SMALL * SMALL {
            fresh.into_iter().filter(|e| !old.contains(e)).collect()
        } else {
            let known: HashMap<_, &Event> = old.iter().map(|e| (e.order(), e)).collect();
            fresh.into_iter().filter(|e| known.get(&e.order()) != Some(e)).collect()
        };
        let new_identities =
            after.identities().iter().filter(|i| before.is_none_or(|b| !b.identities().contains(*i))).collect();
        Self { case: after, expected: before.map_or(0, |b| b.version()), events, new_identities }
    }

    /// The change that replaces the whole stored timeline of `before` (loaded whole) by `after`'s.
    pub fn replacing(before: &Whole, after: &'a Whole) -> Self {
        Self {
            case: after,
            expected: before.version(),
            events: after.timeline().iter().collect(),
            new_identities: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored item {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    /// One change is more than one transaction can carry.
    #[error("the change to case {case} is too large for one transaction: {reason}")]
    TooLarge { case: String, reason: String },
}

/// Why a save did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Another writer changed a case since it was read: reload and apply again.
    #[error("a case changed since it was read")]
    Conflict,
    /// This source id was applied before: nothing to do.
    #[error("this signal was already applied")]
    AlreadySeen,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reading cases: what every use case needs.
pub trait Cases: Send + Sync {
    /// The case without its history: its state and its [`recent`](Case::recent) events. One read.
    fn load(&self, id: &CaseId) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send;
    /// The case with its whole timeline.
    fn load_whole(&self, id: &CaseId) -> impl Future<Output = Result<Option<Whole>, StoreError>> + Send;
    /// The case each key points at, in the keys' order. One read.
    fn lookup_many(&self, keys: &[Key]) -> impl Future<Output = Result<Vec<Option<CaseId>>, StoreError>> + Send;
    fn lookup(&self, key: &Key) -> impl Future<Output = Result<Option<CaseId>, StoreError>> + Send {
        async move { Ok(self.lookup_many(std::slice::from_ref(key)).await?.pop().flatten()) }
    }
    /// The cases `ids` name, each as [`load`](Cases::load) reads it, in the ids' order: one read per
    /// case unless the store batches them (DynamoDB: `BatchGetItem`, 100 keys a request).
    fn load_many(&self, ids: &[CaseId]) -> impl Future<Output = Result<Vec<Option<Case>>, StoreError>> + Send {
        async move {
            let mut cases = Vec::with_capacity(ids.len());
            for id in ids {
                cases.push(self.load(id).await?);
            }
            Ok(cases)
        }
    }
}

/// Recording what happened to cases (ingest; the sweep records its steps the same way).
pub trait Record: Cases {
    fn save(&self, write: Write<'_>) -> impl Future<Output = Result<(), SaveError>> + Send;
    /// Whether a signal with this source id was applied (its dedupe item exists).
    fn was_seen(&self, source: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The due index and the outbox: what the sweep reads and clears.
pub trait Schedule: Record {
    /// The cases whose `next_due` is at or before `now`.
    fn due(&self, now: Timestamp) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send;
    /// The earliest `next_due` of any case (the replay skips the minutes before it).
    fn earliest_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;
    /// Claims the outbox messages nobody holds at `now` until `until`, oldest first.
    fn claim_outbox(
        &self,
        now: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<Outbound>, StoreError>> + Send;
    /// Removes a published message from the outbox.
    fn sent(&self, message: &Outbound) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes published messages from the outbox: one write per message unless the store batches
    /// them (DynamoDB: `BatchWriteItem`, 25 a request).
    fn sent_all(&self, messages: &[&Outbound]) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for message in messages {
                self.sent(message).await?;
            }
            Ok(())
        }
    }
    /// Gives up a claim held until `claimed_until` (a failed publish), so the next sweep tries again.
    fn release(
        &self,
        message: &Outbound,
        claimed_until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Removing what names a customer or a case: the erasure, and the purge of a case past retention.
pub trait Remove: Cases {
    /// Every case that ever held this customer identity: open, closed or merged.
    fn cases_of(&self, identity: &Identity) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send;
    /// Deletes keys: all of them, or (`only_to`) those that point at that case.
    fn forget(&self, keys: &[Key], only_to: Option<&CaseId>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets that these source ids were applied (their dedupe entries name platform messages).
    fn unsee(&self, sources: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes cases from the customer index of `identity`.
    fn unindex(&self, identity: &Identity, cases: &[CaseId]) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a case and its whole timeline by `change` (made with [`Change::replacing`]), on the
    /// version it was read at. Nothing of the old timeline is left stored once it returns.
    fn replace(&self, change: Change<'_>) -> impl Future<Output = Result<(), SaveError>> + Send;
    /// Deletes a case, read at its version, with its whole timeline (not the keys pointing at it).
    fn purge(&self, case: &Case) -> impl Future<Output = Result<(), SaveError>> + Send;
}

/// What a team's daily digest reads and records: the team's open cases that need its lead (at a cost
/// that grows with them, not with the table), its figures of a day, and the digest itself, recorded once.
pub trait Teams: Schedule {
    /// The open cases `team` owns that its digest may list ([`crate::domain::digest::may_list`]: a
    /// clock in breach, a handoff waiting, a closure risk), without their history.
    fn attention_cases(&self, team: &TeamId) -> impl Future<Output = Result<Vec<Case>, StoreError>> + Send;
    /// `team`'s figures of its local day `day` (empty when nothing was counted).
    fn figures(&self, team: &TeamId, day: Date) -> impl Future<Output = Result<DayFigures, StoreError>> + Send;
    /// Whether the digest with this id was recorded (published or still in the outbox).
    fn digest_recorded(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records a digest in the outbox, once: `false` (and nothing written) when a digest with its id
    /// was recorded before, by this run or another.
    fn record_digest(&self, entry: OutboxEntry) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Every store promise at once: what the in-memory and the DynamoDB store keep, and what the replay
/// (which runs every use case) needs. A use case asks only for the trait it uses.
pub trait Store: Record + Schedule + Remove + Teams {}

impl<T: Record + Schedule + Remove + Teams> Store for T {}

/// Counters over fixed windows of time, for limits such as acknowledgements per address per day.
pub trait Limiter: Send + Sync {
    /// Counts one use of `key` in the window of `window` that holds `now`, and says whether it was
    /// within `limit`: `false`, and nothing counted, when `limit` uses were counted there already.
    /// Two callers at once never both take the last use.
    fn take(
        &self,
        key: &str,
        limit: u32,
        window: std::time::Duration,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The window of `window` that holds `now`: its index since the epoch and when it ends.
pub fn limit_window(window: std::time::Duration, now: Timestamp) -> (i64, i64) {
    let length = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
    let index = now.as_second().div_euclid(length);
    (index, index.saturating_add(1).saturating_mul(length))
}

/// The keys that point at a case and name its customer: its message references and identities.
/// `identities` adds those the case held before (an erasure has already removed them from it).
pub fn keys_of<'a>(case: &'a Case, identities: impl IntoIterator<Item = &'a Identity>) -> Vec<Key> {
    let mut keys: Vec<Key> = case.refs().into_iter().map(Key::Message).collect();
    keys.extend(case.identities().iter().chain(identities).cloned().map(Key::Customer));
    keys.sort();
    keys.dedup();
    keys
}
