//! Erasure (`DELETE /customers/{identity}`): a customer's identities, excerpts and message references
//! leave every case that held them; the anonymous timing stays.

use std::collections::BTreeSet;

use super::ServiceError;
use super::retry::retry_on_conflict;
use crate::domain::case::{Case, EventKind};
use crate::domain::ids::{CaseId, Identity};
use crate::store::{Change, Remove};

/// What an erasure did: the identities erased (the one asked for and those linked to it) and the
/// cases anonymised.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    pub identities: BTreeSet<Identity>,
    pub cases: BTreeSet<CaseId>,
}

/// Erases a customer (`DELETE /customers/{identity}`): every case that held this identity, or
/// another identity of the same customer (linked on one of those cases), loses its identities,
/// excerpts, message references and source ids, and the keys that led to it are deleted. The
/// anonymous timing (owners, clocks, instants) stays for the statistics. Running it again finishes
/// an erasure that failed half-way; for an unknown identity it erases nothing.
pub async fn erase_customer<S: Remove>(store: &S, identity: &Identity) -> Result<Erasure, ServiceError> {
    let mut erasure = Erasure::default();
    let mut pending = vec![identity.clone()];
    while let Some(identity) = pending.pop() {
        if !erasure.identities.insert(identity.clone()) {
            continue;
        }
        // Each erased case leaves the identity's index; a message that lands meanwhile may open
        // a new case, so look again until the index is empty.
        let mut rounds = 0;
        loop {
            let cases = store.cases_of(&identity).await?;
            if cases.is_empty() {
                break;
            }
            rounds += 1;
            if rounds > 3 {
                return Err(ServiceError::Contended(format!("erasure: new cases keep opening ({})", cases.len())));
            }
            for id in cases {
                let Some(held) = erase_case(store, &id, &identity).await? else { continue };
                pending.extend(held.into_iter().filter(|i| !erasure.identities.contains(i)));
                erasure.cases.insert(id);
            }
        }
    }
    Ok(erasure)
}

/// Anonymises one case; returns the identities it held (the same customer's), or `None` when the
/// index named a case that is gone (its entry is removed).
async fn erase_case<S: Remove>(
    store: &S,
    id: &CaseId,
    identity: &Identity,
) -> Result<Option<BTreeSet<Identity>>, ServiceError> {
    retry_on_conflict(
        || format!("erasure of case {id}"),
        |_| async move {
            let Some(before) = store.load_whole(id).await? else {
                store.unindex(identity, std::slice::from_ref(id)).await?;
                return Ok(None);
            };
            // The keys first, then the case, then the index that found it: an erasure that fails
            // half-way still finds what is left when it runs again.
            store.forget(&crate::store::keys_of(&before, [identity]), None).await?;
            store.unsee(&signal_sources(&before)).await?;
            let after = before.anonymized();
            store.replace(Change::replacing(&before, &after)).await?;
            for held in before.identities().iter().chain([identity]) {
                store.unindex(held, std::slice::from_ref(id)).await?;
            }
            Ok(Some(before.identities().iter().cloned().collect()))
        },
    )
    .await
}

/// The source ids of a case's signals: platform message ids, in the dedupe entries.
fn signal_sources(case: &Case) -> Vec<String> {
    let signals = case.timeline().iter().filter(|e| matches!(e.kind, EventKind::Signal { .. }));
    let mut sources: Vec<String> =
        signals.filter(|e| !e.source.starts_with("erased:")).map(|e| e.source.to_string()).collect();
    // One batch may not name a key twice.
    sources.sort();
    sources.dedup();
    sources
}
