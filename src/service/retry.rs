//! The one retry loop of every write: a write on a case is conditional on the version it was read
//! at, and another writer's change in between makes it a conflict. The use cases hand one attempt
//! (read, decide, write) to [`retry_on_conflict`], which runs it again after a conflict.

use std::future::Future;
use std::time::Duration;

use super::ServiceError;
use crate::store::SaveError;

/// How often a write is tried after another writer changed the case. With the backoff below, the
/// attempts span about 10 seconds: 50 writers on one case all get through.
pub const MAX_ATTEMPTS: u32 = 40;
/// The backoff between attempts: random, up to `BACKOFF_BASE * 2^attempt`, at most `BACKOFF_CAP`.
const BACKOFF_BASE: Duration = Duration::from_millis(5);
const BACKOFF_CAP: Duration = Duration::from_millis(400);

/// Runs `attempt` (given its number, from 0) until it ends in anything but a conflict, waiting a
/// little longer each time. `what` names the write for the error after [`MAX_ATTEMPTS`] conflicts
/// (`signal <source id>`, `sweep of case <id>`). A signal applied before ends in
/// [`ServiceError::AlreadyApplied`]; only writes that carry a source id can end so.
pub async fn retry_on_conflict<T, F, Fut>(what: impl FnOnce() -> String, mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, SaveError>>,
{
    for n in 0..MAX_ATTEMPTS {
        backoff(n).await;
        match attempt(n).await {
            Ok(done) => return Ok(done),
            Err(SaveError::Conflict) => continue,
            Err(SaveError::AlreadySeen) => return Err(ServiceError::AlreadyApplied),
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ServiceError::Contended(what()))
}

/// Waits before attempt `attempt` (none before the first): "full jitter" exponential backoff, so
/// writers that collided spread out instead of colliding again.
async fn backoff(attempt: u32) {
    if attempt == 0 {
        return;
    }
    let ceiling = BACKOFF_BASE.saturating_mul(1 << attempt.min(16)).min(BACKOFF_CAP);
    tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
}
