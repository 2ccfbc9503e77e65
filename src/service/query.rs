//! Queries: the case a reference names, following merges and continuations.

use crate::domain::case::{Case, Whole};
use crate::domain::ids::CaseId;
use crate::ingest::CaseRef;
use crate::store::{Cases, Key, StoreError};

/// The case a reference names, following merges, with its whole timeline (`GET /cases/{case}`).
pub async fn show<S: Cases>(store: &S, reference: &CaseRef) -> Result<Option<Whole>, StoreError> {
    match find(store, reference).await? {
        Some(case) => store.load_whole(case.id()).await,
        None => Ok(None),
    }
}

/// The case a reference names, following merges (without its history).
pub async fn find<S: Cases>(store: &S, reference: &CaseRef) -> Result<Option<Case>, StoreError> {
    let id = match reference {
        CaseRef::Id(id) => id.clone(),
        CaseRef::Message(message) => match store.lookup(&Key::Message(message.clone())).await? {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    follow(store, id).await
}

/// The case `id` names, or the case it was merged into or continued in.
pub async fn follow<S: Cases>(store: &S, mut id: CaseId) -> Result<Option<Case>, StoreError> {
    for _ in 0..64 {
        match store.load(&id).await? {
            Some(case) => match case.merged_into().or(case.continued_in()) {
                Some(into) => id = (*into).clone(),
                None => return Ok(Some(case)),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}
