//! Where cases live. The trait is what the service needs: load a case, find one by a message
//! reference or a customer identity, save a change atomically, and list the cases that are due.
//! [`memory::MemoryStore`] serves the replay and the engine tests; the DynamoDB adapter serves the
//! functions.

pub mod memory;

use std::future::Future;

use jiff::Timestamp;

use crate::domain::case::Case;
use crate::domain::ids::{CaseId, Identity, MessageRef};

/// A lookup key pointing at a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A message the case holds: replies thread to it.
    Message(MessageRef),
    /// A customer identity: their latest case.
    Customer(Identity),
}

/// One atomic change: cases (each with the version it was read at; 0 for a new case), keys to point
/// at cases, and the source id of the signal, so that a retried delivery has no second effect.
#[derive(Debug, Default)]
pub struct Write<'a> {
    pub cases: Vec<(&'a Case, u64)>,
    pub keys: Vec<(Key, CaseId)>,
    pub seen: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored case {id} is unreadable: {reason}")]
    Corrupt { id: String, reason: String },
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

pub trait Store: Send + Sync {
    fn load(&self, id: &CaseId) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send;
    fn lookup(&self, key: &Key) -> impl Future<Output = Result<Option<CaseId>, StoreError>> + Send;
    fn save(&self, write: Write<'_>) -> impl Future<Output = Result<(), SaveError>> + Send;
    /// The cases whose `next_due` is at or before `now`.
    fn due(&self, now: Timestamp) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send;
}
