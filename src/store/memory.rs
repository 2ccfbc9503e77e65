//! An in-memory store with the same guarantees as the DynamoDB one: versioned writes, dedupe by
//! source id in the same atomic step, and a due index ordered by `next_due`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use jiff::Timestamp;

use super::{Key, SaveError, Store, StoreError, Write};
use crate::domain::case::Case;
use crate::domain::ids::CaseId;

#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cases: HashMap<CaseId, Case>,
    keys: HashMap<Key, CaseId>,
    seen: HashSet<String>,
    due: BTreeSet<(Timestamp, CaseId)>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A case as it is now, without going through the async trait (for reports).
    pub fn load_now(&self, id: &CaseId) -> Option<Case> {
        self.inner.lock().expect("store lock").cases.get(id).cloned()
    }

    /// The earliest instant any case is due, if any.
    pub fn earliest_due(&self) -> Option<Timestamp> {
        self.inner.lock().expect("store lock").due.first().map(|(at, _)| *at)
    }

    /// Every case, ordered by when it opened (for reports).
    pub fn cases(&self) -> Vec<Case> {
        let inner = self.inner.lock().expect("store lock");
        let mut cases: Vec<Case> = inner.cases.values().cloned().collect();
        cases.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
        cases
    }
}

impl Store for MemoryStore {
    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        Ok(self.inner.lock().expect("store lock").cases.get(id).cloned())
    }

    async fn lookup(&self, key: &Key) -> Result<Option<CaseId>, StoreError> {
        Ok(self.inner.lock().expect("store lock").keys.get(key).cloned())
    }

    async fn save(&self, write: Write<'_>) -> Result<(), SaveError> {
        let mut inner = self.inner.lock().expect("store lock");
        if let Some(seen) = &write.seen {
            if inner.seen.contains(seen) {
                return Err(SaveError::AlreadySeen);
            }
        }
        for (case, expected) in &write.cases {
            let current = inner.cases.get(&case.id).map_or(0, |c| c.version);
            if current != *expected {
                return Err(SaveError::Conflict);
            }
        }
        for (case, expected) in write.cases {
            let mut stored = case.clone();
            stored.version = expected + 1;
            if let Some(old) = inner.cases.get(&case.id).and_then(|c| c.next_due) {
                inner.due.remove(&(old, case.id.clone()));
            }
            if let Some(due) = stored.next_due {
                inner.due.insert((due, case.id.clone()));
            }
            inner.cases.insert(case.id.clone(), stored);
        }
        for (key, id) in write.keys {
            inner.keys.insert(key, id);
        }
        if let Some(seen) = write.seen {
            inner.seen.insert(seen);
        }
        Ok(())
    }

    async fn due(&self, now: Timestamp) -> Result<Vec<CaseId>, StoreError> {
        let inner = self.inner.lock().expect("store lock");
        Ok(inner.due.iter().take_while(|(at, _)| *at <= now).map(|(_, id)| id.clone()).collect())
    }
}
