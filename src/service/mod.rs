//! The use cases, one module each, each over the narrow store trait it needs: [`ingest`] (a signal
//! onto its case), [`sweep`] (due cases, the outbox, the purge), [`erase`] (a customer's data) and
//! [`query`] (the case a reference names). Every write retries on conflict in one place,
//! [`retry::retry_on_conflict`]. [`Baton`] puts them together over one store for the replay and the
//! tests; each function's binary builds only the use case it serves.

pub mod erase;
pub mod ingest;
pub mod query;
pub mod retry;
pub mod sweep;

use std::sync::Arc;

use jiff::Timestamp;

pub use erase::Erasure;
pub use ingest::{Ingest, Outcome};
pub use sweep::{OUTBOX_CLAIM, Sweep, SweepOptions, SweepReport};

use crate::domain::case::{Case, Whole};
use crate::domain::ids::{CaseId, Identity, MessageRef};
use crate::domain::measure::{self, Figures, Measure};
use crate::domain::policy::Policy;
use crate::ingest::{CaseRef, Inbound};
use crate::notify::Notifier;
use crate::probe::{self, Part};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What was being written (`signal <source id>`, `sweep of case <id>`): its case kept changing.
    #[error("{0}: the case kept changing under us; gave up after {max} attempts", max = retry::MAX_ATTEMPTS)]
    Contended(String),
    /// The signal's source id was applied before (ingest answers [`Outcome::Duplicate`]).
    #[error("this signal was already applied")]
    AlreadyApplied,
}

/// Every use case over one store and notifier: what the replay runs, and what the tests drive.
pub struct Baton<S, N> {
    pub store: S,
    pub notifier: N,
    pub policy: Arc<Policy>,
}

impl<S: Store, N: Notifier> Baton<S, N> {
    pub fn new(store: S, notifier: N, policy: Arc<Policy>) -> Self {
        Self { store, notifier, policy }
    }

    pub fn intake(&self) -> Ingest<'_, S> {
        Ingest::new(&self.store, &self.policy)
    }

    pub fn sweeper(&self) -> Sweep<'_, S, N> {
        Sweep::new(&self.store, &self.notifier, &self.policy)
    }

    /// See [`Ingest::ingest`].
    pub async fn ingest(&self, inbound: &Inbound) -> Result<Outcome, ServiceError> {
        self.intake().ingest(inbound).await
    }

    /// See [`Ingest::forget_message`].
    pub async fn forget_message(&self, reference: &MessageRef) -> Result<Option<CaseId>, ServiceError> {
        self.intake().forget_message(reference).await
    }

    /// See [`erase::erase_customer`].
    pub async fn erase_customer(&self, identity: &Identity) -> Result<Erasure, ServiceError> {
        erase::erase_customer(&self.store, identity).await
    }

    /// See [`query::show`].
    pub async fn show(&self, reference: &CaseRef) -> Result<Option<Whole>, StoreError> {
        query::show(&self.store, reference).await
    }

    /// See [`query::find`].
    pub async fn find(&self, reference: &CaseRef) -> Result<Option<Case>, StoreError> {
        query::find(&self.store, reference).await
    }

    /// See [`Sweep::sweep`].
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, ServiceError> {
        self.sweeper().sweep(now).await
    }

    /// See [`Sweep::sweep_with`].
    pub async fn sweep_with(&self, now: Timestamp, options: &SweepOptions) -> Result<SweepReport, ServiceError> {
        self.sweeper().sweep_with(now, options).await
    }
}

/// What a change from `before` to `after` did to the clocks ([`measure::changes`]), and those
/// measures tallied into the day's figures ([`measure::tally`]): timed as one call by the probe.
fn measured(before: &Case, after: &Case, at: Timestamp, policy: &Policy) -> (Vec<Measure>, Figures) {
    probe::time(Part::Measure, || {
        let measures = measure::changes(Some(before), after, at, policy);
        let mut figures = Figures::new();
        measure::tally(&mut figures, &measures, policy);
        (measures, figures)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::retry::MAX_ATTEMPTS;
    use super::*;
    use crate::domain::ids::Channel;
    use crate::domain::signal::{Signal, SignalKind};
    use crate::ingest::Route;
    use crate::notify::{Collect, NotifyError, Outbound};
    use crate::store::memory::MemoryStore;
    use crate::store::{Cases, Key, Record, SaveError, Teams, Write};

    /// A store whose every save loses the race: ingest is all it serves.
    struct AlwaysContended(MemoryStore);

    impl Cases for AlwaysContended {
        async fn load(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
            self.0.load(id).await
        }
        async fn load_whole(&self, id: &CaseId) -> Result<Option<Whole>, StoreError> {
            self.0.load_whole(id).await
        }
        async fn lookup_many(&self, keys: &[Key]) -> Result<Vec<Option<CaseId>>, StoreError> {
            self.0.lookup_many(keys).await
        }
    }

    impl Record for AlwaysContended {
        async fn save(&self, _: Write<'_>) -> Result<(), SaveError> {
            Err(SaveError::Conflict)
        }
        async fn was_seen(&self, source: &str) -> Result<bool, StoreError> {
            self.0.was_seen(source).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_keeps_conflicting_gives_up_with_a_clear_error() {
        let (store, policy) = (AlwaysContended(MemoryStore::new()), Policy::default_policy());
        let ingest = Ingest::new(&store, &policy);
        let identity = Identity::Email("max@example.ch".into());
        let signal = Signal::new(
            "2026-04-13T08:00:00Z".parse().unwrap(),
            "ses:abc",
            SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
        );
        let inbound = Inbound { signal, route: Route::default() };
        let started = tokio::time::Instant::now();
        let error = ingest.ingest(&inbound).await.unwrap_err();
        assert!(matches!(error, ServiceError::Contended(_)));
        assert_eq!(
            error.to_string(),
            format!("signal ses:abc: the case kept changing under us; gave up after {MAX_ATTEMPTS} attempts")
        );
        // The attempts are spread out, not a tight loop, and bounded.
        let waited = started.elapsed();
        assert!(waited > Duration::from_secs(1) && waited < Duration::from_secs(20), "{waited:?}");
    }

    #[tokio::test]
    async fn a_sweep_past_its_deadline_leaves_the_cases_for_the_next_run() {
        let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
        for n in 0..3 {
            let identity = Identity::Email(format!("c{n}@example.ch"));
            let signal = Signal::new(
                "2026-04-13T06:00:00Z".parse().unwrap(),
                format!("ses:{n}"),
                SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
            );
            let route = Route { team: Some("central".parse().unwrap()), ..Route::default() };
            baton.ingest(&Inbound { signal, route }).await.unwrap();
        }
        let now: Timestamp = "2026-04-13T12:00:00Z".parse().unwrap();
        let late = SweepOptions { stop_at: Some(tokio::time::Instant::now()), ..SweepOptions::default() };
        let report = baton.sweep_with(now, &late).await.unwrap();
        assert_eq!((report.cases_due, report.left_for_next_run), (3, 3));
        assert!(report.alerts.is_empty());
        // They stay due: the next run takes them.
        let next = baton.sweep(now).await.unwrap();
        assert_eq!((next.cases_due, next.left_for_next_run, next.alerts.len()), (3, 0, 3));
    }

    /// A notifier that fails while `down` is set.
    #[derive(Default)]
    struct Switch {
        down: std::sync::atomic::AtomicBool,
        sent: std::sync::Mutex<Vec<String>>,
    }

    impl Notifier for Switch {
        async fn publish(&self, message: &Outbound) -> Result<(), NotifyError> {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(NotifyError { id: message.id.clone(), reason: "down".into() });
            }
            self.sent.lock().unwrap().push(message.id.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn outbox_alerts_past_the_deadline_wait_for_the_next_run() {
        let baton = Baton::new(MemoryStore::new(), Switch::default(), Arc::new(Policy::default_policy()));
        let identity = Identity::Email("c@example.ch".into());
        let signal = Signal::new(
            "2026-04-13T06:00:00Z".parse().unwrap(),
            "ses:c",
            SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
        );
        let route = Route { team: Some("central".parse().unwrap()), ..Route::default() };
        baton.ingest(&Inbound { signal, route }).await.unwrap();
        baton.notifier.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let failed = baton.sweep("2026-04-13T12:00:00Z".parse().unwrap()).await.unwrap();
        // The warning, and each of the four teams' daily digests of that Monday (due at 08:00).
        let failed: Vec<&str> = failed.unpublished.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(failed.len(), 5, "{failed:?}");
        assert!(failed.contains(&"baton:digest:central:2026-04-13"), "{failed:?}");
        baton.notifier.down.store(false, std::sync::atomic::Ordering::SeqCst);

        let late = SweepOptions { stop_at: Some(tokio::time::Instant::now()), ..SweepOptions::default() };
        let report = baton.sweep_with("2026-04-13T12:01:00Z".parse().unwrap(), &late).await.unwrap();
        assert_eq!((report.recovered.len(), report.alerts_left_for_next_run), (0, 5));
        assert!(baton.notifier.sent.lock().unwrap().is_empty());
        // Given back, not held: the very next run publishes them, the digest once.
        let next = baton.sweep("2026-04-13T12:01:10Z".parse().unwrap()).await.unwrap();
        assert_eq!((next.recovered.len(), next.digests.len()), (1, 4));
        assert_eq!(baton.notifier.sent.lock().unwrap().len(), 5);
        let again = baton.sweep("2026-04-13T12:02:00Z".parse().unwrap()).await.unwrap();
        assert!(again.digests.is_empty() && again.recovered.is_empty());
    }

    #[tokio::test]
    async fn what_a_signal_and_a_sweep_did_to_the_clocks_comes_back_for_the_metrics() {
        use crate::domain::clock::ClockKind;
        use crate::domain::measure::Measure;
        let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
        let identity = Identity::Email("m@example.ch".into());
        let mail = Signal::new(
            "2026-04-13T06:00:00Z".parse().unwrap(),
            "ses:m",
            SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
        );
        let route = Route { team: Some("central".parse().unwrap()), ..Route::default() };
        let Outcome::Applied { case, .. } = baton.ingest(&Inbound { signal: mail, route }).await.unwrap() else {
            panic!("applied")
        };
        // The breach at 16:00 in Zurich comes back from the sweep.
        let swept = baton.sweep("2026-04-13T14:00:00Z".parse().unwrap()).await.unwrap();
        assert!(
            swept.measures.iter().any(|m| matches!(m, Measure::Breached { clock: ClockKind::FirstResponse, .. })),
            "{:?}",
            swept.measures
        );
        // A handoff ends central's hold of 8 hours: it comes back with the signal's outcome.
        let handoff = Signal::new(
            "2026-04-13T14:00:00Z".parse().unwrap(),
            "api:h",
            SignalKind::Handoff { to: "support-ch".parse().unwrap() },
        );
        let route = Route { case: Some(crate::ingest::CaseRef::Id(case)), ..Route::default() };
        let Outcome::Applied { measures, .. } = baton.ingest(&Inbound { signal: handoff, route }).await.unwrap() else {
            panic!("applied")
        };
        let held: Vec<i64> = measures
            .iter()
            .filter_map(|m| match m {
                Measure::Held { team, from, to, .. } if team.as_str() == "central" => {
                    Some(to.as_second() - from.as_second())
                }
                _ => None,
            })
            .collect();
        assert_eq!(held, [8 * 3600]);
        let lines = crate::metrics::measures(&measures, "2026-04-13T14:00:00Z".parse().unwrap());
        let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!((line["Team"].as_str(), line["TimeHeld"].as_f64()), (Some("central"), Some(28_800.0)));
    }

    #[tokio::test]
    async fn a_signal_that_goes_to_a_continuation_still_counts_what_it_did() {
        use crate::domain::measure::Measure;
        let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
        let identity = Identity::Email("full@example.ch".into());
        let start: Timestamp = "2026-04-13T06:00:00Z".parse().unwrap();
        let mail = Signal::new(
            start,
            "ses:full",
            SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
        );
        let route = Route { team: Some("central".parse().unwrap()), ..Route::default() };
        let Outcome::Applied { case, .. } = baton.ingest(&Inbound { signal: mail, route }).await.unwrap() else {
            panic!("applied")
        };
        // The case fills up with internal notes, a second apart.
        let on_case = || Route { case: Some(crate::ingest::CaseRef::Id(case.clone())), ..Route::default() };
        for n in 1..crate::domain::case::MAX_EVENTS {
            let at = start + jiff::SignedDuration::from_secs(i64::try_from(n).unwrap());
            let note = Signal::new(at, format!("api:n{n}"), SignalKind::InternalNote { team: None });
            baton.ingest(&Inbound { signal: note, route: on_case() }).await.unwrap();
        }
        // The reply goes to the continuation, and meets first_response there.
        let at = start + jiff::SignedDuration::from_hours(1);
        let kind = SignalKind::AgentReply { channel: Channel::Email, team: None, awaiting_customer: false };
        let outcome = baton.ingest(&Inbound { signal: Signal::new(at, "api:reply", kind), route: on_case() }).await;
        let Outcome::Applied { case: next, measures, .. } = outcome.unwrap() else { panic!("applied") };
        assert_ne!(next, case, "a continuation took the reply");
        assert!(
            measures.iter().any(|m| matches!(
                m,
                Measure::Stopped { clock: crate::domain::clock::ClockKind::FirstResponse, met: true, .. }
            )),
            "{measures:?}"
        );
        let day = jiff::civil::date(2026, 4, 13);
        let figures = baton.store.figures(&"central".parse().unwrap(), day).await.unwrap();
        assert_eq!(figures.met.get(&crate::domain::clock::ClockKind::FirstResponse), Some(&1), "{figures:?}");
    }
}
