//! An in-memory store with the same promises as the DynamoDB one: versioned writes, dedupe by source
//! id in the same atomic step, a due index ordered by `next_due`, and a timeline kept apart from the
//! case, written only through the events a [`Change`] names. A case loads without its history unless
//! asked, as from DynamoDB, so a rule that forgets to load the history fails here too.

use std::collections::{BTreeMap, BTreeSet};

/// Hash maps with foldhash: a replay's store holds a million dedupe ids, and SipHash was a visible
/// part of its time.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use jiff::civil::Date;

use super::{
    Cases, Change, Key, Limiter, OutboxEntry, Record, Remove, SaveError, Schedule, StoreError, Teams, Write,
    limit_window,
};
use crate::domain::case::{Case, Event, Whole};
use crate::domain::ids::{CaseId, Identity, TeamId};
use crate::domain::measure::{DayFigures, Figures};
use crate::notify::Outbound;

#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each case with its whole timeline.
    cases: HashMap<CaseId, Case>,
    keys: HashMap<Key, CaseId>,
    /// The source ids applied, shared with the events that hold them.
    seen: HashSet<Arc<str>>,
    due: BTreeSet<(Timestamp, CaseId)>,
    /// The cases each customer identity was held by.
    customers: HashMap<Identity, BTreeSet<CaseId>>,
    /// The outbox by (alert instant, id), with each message's claim.
    outbox: BTreeMap<(Timestamp, String), (Outbound, Timestamp)>,
    /// Limit counters by (key, window length in seconds, window index).
    limits: HashMap<(String, u64, i64), u32>,
    /// The open cases a digest may list, by owning team (the DynamoDB store's `open` index, read
    /// from its `1#` half).
    open: HashMap<TeamId, BTreeSet<CaseId>>,
    figures: Figures,
    /// The digests recorded, by id.
    digests: HashSet<String>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().expect("store lock"))
    }
}

impl Inner {
    fn check(&self, id: &CaseId, expected: u64) -> Result<(), SaveError> {
        let current = self.cases.get(id).map_or(0, |c| c.version());
        if current == expected { Ok(()) } else { Err(SaveError::Conflict) }
    }

    /// Removes a case and its entries in the due and open indexes; returns it.
    fn take(&mut self, id: &CaseId) -> Option<Case> {
        let old = self.cases.remove(id);
        self.reindex(id, old.as_ref().map(Place::of).unwrap_or_default(), Place::default());
        old
    }

    /// Stores the case `make` builds from the timeline of the one stored under `id` (empty when none
    /// is): in place, not taken out of the map and put back, which hashed the id twice and left a
    /// tombstone that made the map rehash itself now and then; and the indexes are touched only
    /// where the new case's place in them differs from the old one's.
    fn overwrite(&mut self, id: &CaseId, make: impl FnOnce(Vec<Event>) -> Case) {
        let (from, to) = match self.cases.get_mut(id) {
            Some(slot) => {
                let from = Place::of(slot);
                let new = make(slot.take_timeline());
                let to = Place::of(&new);
                *slot = new;
                (from, to)
            }
            None => {
                let new = make(Vec::new());
                let to = Place::of(&new);
                self.cases.insert(id.clone(), new);
                (Place::default(), to)
            }
        };
        self.reindex(id, from, to);
    }

    /// Moves case `id` in the due and open indexes from one place to another.
    fn reindex(&mut self, id: &CaseId, from: Place, to: Place) {
        if from.due != to.due {
            if let Some(due) = from.due {
                self.due.remove(&(due, id.clone()));
            }
            if let Some(due) = to.due {
                self.due.insert((due, id.clone()));
            }
        }
        if from.listed != to.listed {
            if let Some(open) = from.listed.and_then(|team| self.open.get_mut(&team)) {
                open.remove(id);
            }
            if let Some(team) = to.listed {
                self.open.entry(team).or_default().insert(id.clone());
            }
        }
    }
}

/// Where a case stands in the store's indexes: when it is next due, and the team whose digest may
/// list it. The default is a case in neither (or none at all).
#[derive(Debug, Default)]
struct Place {
    due: Option<Timestamp>,
    listed: Option<TeamId>,
}

impl Place {
    fn of(case: &Case) -> Self {
        Self { due: case.next_due(), listed: crate::domain::digest::may_list(case).then(|| case.owner().clone()) }
    }
}

impl Cases for MemoryStore {
    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        Ok(self.with(|inner| inner.cases.get(id).map(Case::without_history)))
    }

    async fn load_whole(&self, id: &CaseId) -> Result<Option<Whole>, StoreError> {
        let case = self.with(|inner| inner.cases.get(id).cloned());
        // The store keeps every case whole: a case that is not was stored wrongly.
        let whole = case.map(|c| {
            c.into_whole()
                .map_err(|c| StoreError::Corrupt { key: c.id().to_string(), reason: "events are missing".into() })
        });
        whole.transpose()
    }

    async fn lookup_many(&self, keys: &[Key]) -> Result<Vec<Option<CaseId>>, StoreError> {
        Ok(self.with(|inner| keys.iter().map(|key| inner.keys.get(key).cloned()).collect()))
    }
}

impl Record for MemoryStore {
    async fn save(&self, write: Write<'_>) -> Result<(), SaveError> {
        self.with(|inner| {
            if write.seen.as_ref().is_some_and(|seen| inner.seen.contains(seen)) {
                return Err(SaveError::AlreadySeen);
            }
            for change in &write.cases {
                inner.check(change.case.id(), change.expected)?;
            }
            // A message reference belongs to the case that recorded it first (as in DynamoDB).
            for (key, id) in &write.keys {
                if matches!(key, Key::Message(_)) && inner.keys.get(key).is_some_and(|held| held != id) {
                    return Err(SaveError::Conflict);
                }
            }
            for change in write.cases {
                for identity in &change.new_identities {
                    inner.customers.entry((*identity).clone()).or_default().insert(change.case.id().clone());
                }
                inner.overwrite(change.case.id(), |timeline| stored(timeline, &change));
            }
            inner.keys.extend(write.keys);
            inner.seen.extend(write.seen);
            for entry in write.outbox {
                let key = (entry.message.at(), entry.message.id.clone());
                inner.outbox.insert(key, (entry.message, entry.claimed_until));
            }
            for (key, figures) in write.figures {
                inner.figures.entry(key).or_default().add(&figures);
            }
            Ok(())
        })
    }

    async fn was_seen(&self, source: &str) -> Result<bool, StoreError> {
        Ok(self.with(|inner| inner.seen.contains(source)))
    }
}

impl Schedule for MemoryStore {
    async fn due(&self, now: Timestamp) -> Result<Vec<CaseId>, StoreError> {
        Ok(self.with(|inner| inner.due.iter().take_while(|(at, _)| *at <= now).map(|(_, id)| id.clone()).collect()))
    }

    async fn earliest_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.with(|inner| inner.due.first().map(|(at, _)| *at)))
    }

    async fn claim_outbox(&self, now: Timestamp, until: Timestamp) -> Result<Vec<Outbound>, StoreError> {
        Ok(self.with(|inner| {
            let free = inner.outbox.values_mut().filter(|(_, claimed)| *claimed <= now);
            free.map(|(message, claimed)| {
                *claimed = until;
                message.clone()
            })
            .collect()
        }))
    }

    async fn sent(&self, message: &Outbound) -> Result<(), StoreError> {
        self.with(|inner| inner.outbox.remove(&(message.at(), message.id.clone())));
        Ok(())
    }

    async fn release(&self, message: &Outbound, claimed_until: Timestamp) -> Result<(), StoreError> {
        self.with(|inner| {
            if let Some((_, claimed)) = inner.outbox.get_mut(&(message.at(), message.id.clone()))
                && *claimed == claimed_until
            {
                *claimed = Timestamp::UNIX_EPOCH;
            }
        });
        Ok(())
    }
}

impl Teams for MemoryStore {
    async fn attention_cases(&self, team: &TeamId) -> Result<Vec<Case>, StoreError> {
        Ok(self.with(|inner| {
            let Some(ids) = inner.open.get(team) else { return Vec::new() };
            // Sized up front: a team's digest can list thousands of cases, and growing the list
            // reallocated and copied them again and again.
            let mut cases = Vec::with_capacity(ids.len());
            cases.extend(ids.iter().filter_map(|id| inner.cases.get(id)).map(Case::without_history));
            cases
        }))
    }

    async fn figures(&self, team: &TeamId, day: Date) -> Result<DayFigures, StoreError> {
        Ok(self.with(|inner| inner.figures.get(&(team.clone(), day)).cloned().unwrap_or_default()))
    }

    async fn digest_recorded(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.with(|inner| inner.digests.contains(id)))
    }

    async fn record_digest(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
        Ok(self.with(|inner| {
            if !inner.digests.insert(entry.message.id.clone()) {
                return false;
            }
            let key = (entry.message.at(), entry.message.id.clone());
            inner.outbox.insert(key, (entry.message, entry.claimed_until));
            true
        }))
    }
}

impl Remove for MemoryStore {
    async fn cases_of(&self, identity: &Identity) -> Result<Vec<CaseId>, StoreError> {
        Ok(self.with(|inner| inner.customers.get(identity).map(|c| c.iter().cloned().collect()).unwrap_or_default()))
    }

    async fn forget(&self, keys: &[Key], only_to: Option<&CaseId>) -> Result<(), StoreError> {
        self.with(|inner| {
            for key in keys {
                if only_to.is_none_or(|id| inner.keys.get(key) == Some(id)) {
                    inner.keys.remove(key);
                }
            }
        });
        Ok(())
    }

    async fn unsee(&self, sources: &[String]) -> Result<(), StoreError> {
        self.with(|inner| {
            for source in sources {
                inner.seen.remove(source.as_str());
            }
        });
        Ok(())
    }

    async fn unindex(&self, identity: &Identity, cases: &[CaseId]) -> Result<(), StoreError> {
        self.with(|inner| {
            if let Some(held) = inner.customers.get_mut(identity) {
                held.retain(|id| !cases.contains(id));
                if held.is_empty() {
                    inner.customers.remove(identity);
                }
            }
        });
        Ok(())
    }

    async fn replace(&self, change: Change<'_>) -> Result<(), SaveError> {
        self.with(|inner| {
            inner.check(change.case.id(), change.expected)?;
            let timeline = change.events.iter().map(|e| (*e).clone()).collect();
            inner.overwrite(change.case.id(), |_| {
                change.case.with_timeline(timeline, 0).with_version(change.expected + 1)
            });
            Ok(())
        })
    }

    async fn purge(&self, case: &Case) -> Result<(), SaveError> {
        self.with(|inner| {
            inner.check(case.id(), case.version())?;
            inner.take(case.id());
            Ok(())
        })
    }
}

/// The case after a change: its new state, and the old timeline (empty for a new case) with the
/// change's events written in.
///
/// # Panics
/// If the change leaves out a new event (the case counts more events than the store then holds): the
/// caller built the change wrongly, and the DynamoDB store would lose that event.
fn stored(mut timeline: Vec<Event>, change: &Change<'_>) -> Case {
    for event in &change.events {
        match timeline.binary_search_by(|e| e.order().cmp(&event.order())) {
            Ok(i) => timeline[i] = (*event).clone(),
            Err(i) => timeline.insert(i, (*event).clone()),
        }
    }
    assert_eq!(
        timeline.len() as u64,
        change.case.event_count(),
        "case {}: the change does not carry every new event",
        change.case.id()
    );
    change.case.with_timeline(timeline, 0).with_version(change.expected + 1)
}

impl Limiter for MemoryStore {
    async fn take(
        &self,
        key: &str,
        limit: u32,
        window: std::time::Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (index, _) = limit_window(window, now);
        Ok(self.with(|inner| {
            let used = inner.limits.entry((key.to_string(), window.as_secs(), index)).or_insert(0);
            let within = *used < limit;
            if within {
                *used += 1;
            }
            within
        }))
    }
}
