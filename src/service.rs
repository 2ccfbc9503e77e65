//! The service: routes signals to cases and runs the sweep, over any [`Store`] and [`Notifier`]. The
//! functions and the replay both drive Baton through here, so they share every code path.

use std::sync::Arc;

use jiff::Timestamp;

use crate::domain::alert::Alert;
use crate::domain::case::{Case, Event};
use crate::domain::engine::{self, Rejection};
use crate::domain::ids::{CaseId, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;
use crate::ingest::{CaseRef, Inbound, Route};
use crate::notify::{Notifier, NotifyError};
use crate::store::{Key, SaveError, Store, StoreError, Write};

/// How often a write is tried again after another writer changed the case.
const MAX_ATTEMPTS: u32 = 8;
/// How many ids are tried for a new case before giving up (a 30-bit space: collisions are rare).
const MAX_ID_ATTEMPTS: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to a case (`opened`: the signal opened it).
    Applied { case: CaseId, opened: bool },
    /// The same source id was applied before.
    Duplicate,
    /// No case to put it on (an agent's mail to nobody Baton knows, ...).
    Unrouted(&'static str),
    /// The engine refused it; the reason says what to answer.
    Rejected(Rejection),
    /// `{case}` names no case.
    UnknownCase,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("case {0} kept changing under us: gave up after {MAX_ATTEMPTS} attempts")]
    Contended(String),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

/// What one sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub cases_due: usize,
    /// The alerts published, each with the case as it stood after them.
    pub alerts: Vec<(Alert, Event)>,
    /// Other events recorded (expired confirmation windows).
    pub events: Vec<(CaseId, Event)>,
}

pub struct Baton<S, N> {
    pub store: S,
    pub notifier: N,
    pub policy: Arc<Policy>,
}

impl<S: Store, N: Notifier> Baton<S, N> {
    pub fn new(store: S, notifier: N, policy: Arc<Policy>) -> Self {
        Self { store, notifier, policy }
    }

    /// Applies one inbound signal to its case, opening a case for a customer's first message.
    pub async fn ingest(&self, inbound: &Inbound) -> Result<Outcome, ServiceError> {
        for _ in 0..MAX_ATTEMPTS {
            match self.try_ingest(inbound).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::AlreadySeen) => return Ok(Outcome::Duplicate),
                Err(SaveError::Store(e)) => return Err(e.into()),
                Ok(outcome) => return Ok(outcome),
            }
        }
        Err(ServiceError::Contended(inbound.signal.source.clone()))
    }

    async fn try_ingest(&self, inbound: &Inbound) -> Result<Outcome, SaveError> {
        let policy = &self.policy;
        let signal = &inbound.signal;
        let Some(mut case) = self.resolve(&inbound.route).await? else {
            if inbound.route.case.is_some() {
                return Ok(Outcome::UnknownCase);
            }
            return self.open(inbound).await;
        };
        let expected = case.version;
        if let Err(rejection) = engine::apply(&mut case, signal.clone(), policy) {
            return Ok(Outcome::Rejected(rejection));
        }
        let mut keys = self.keys_for(&inbound.route, &case.id);
        let mut absorbed = None;
        if let SignalKind::Link { identity } = &signal.kind {
            keys.push((Key::Customer(identity.clone()), case.id.clone()));
            if let Some(other_id) = self.store.lookup(&Key::Customer(identity.clone())).await? {
                if other_id != case.id {
                    if let Some(mut other) = self.store.load(&other_id).await? {
                        if !other.is_closed() {
                            let other_version = other.version;
                            engine::merge(&mut case, &mut other, signal.at, &signal.source, policy);
                            keys.extend(other.identities.iter().map(|i| (Key::Customer(i.clone()), case.id.clone())));
                            absorbed = Some((other, other_version));
                        }
                    }
                }
            }
        }
        let mut cases = vec![(&case, expected)];
        if let Some((other, version)) = &absorbed {
            cases.push((other, *version));
        }
        self.store.save(Write { cases, keys, seen: Some(signal.source.clone()) }).await?;
        Ok(Outcome::Applied { case: case.id.clone(), opened: false })
    }

    async fn open(&self, inbound: &Inbound) -> Result<Outcome, SaveError> {
        let signal = &inbound.signal;
        if !matches!(signal.kind, SignalKind::CustomerMessage { .. }) {
            return Ok(Outcome::Unrouted("no case to put it on, and only a customer's message opens one"));
        }
        let owner = inbound.route.team.clone().unwrap_or_else(|| self.intake_team());
        let mut id = None;
        for attempt in 0..MAX_ID_ATTEMPTS {
            let candidate = CaseId::derive(&self.policy.case_prefix, &signal.source, attempt);
            if self.store.load(&candidate).await?.is_none() {
                id = Some(candidate);
                break;
            }
        }
        let Some(id) = id else {
            return Err(SaveError::Store(StoreError::Backend(format!("no free case id for {}", signal.source).into())));
        };
        let case = match engine::open(id, owner, signal.clone(), &self.policy) {
            Ok(case) => case,
            Err(rejection) => return Ok(Outcome::Rejected(rejection)),
        };
        let keys = self.keys_for(&inbound.route, &case.id);
        self.store.save(Write { cases: vec![(&case, 0)], keys, seen: Some(signal.source.clone()) }).await?;
        Ok(Outcome::Applied { case: case.id.clone(), opened: true })
    }

    /// The team that takes new cases nobody addressed: the first team with a mailbox.
    fn intake_team(&self) -> TeamId {
        let teams = &self.policy.teams;
        teams
            .values()
            .find(|t| !t.mailboxes.is_empty())
            .or_else(|| teams.values().next())
            .map(|t| t.id.clone())
            .expect("a policy has teams")
    }

    fn keys_for(&self, route: &Route, id: &CaseId) -> Vec<(Key, CaseId)> {
        let mut keys: Vec<(Key, CaseId)> = route.own.iter().map(|r| (Key::Message(r.clone()), id.clone())).collect();
        if let Some(customer) = &route.customer {
            keys.push((Key::Customer(customer.clone()), id.clone()));
        }
        keys
    }

    /// Finds the case a route points at: the case named, else a thread, else the customer's open case.
    async fn resolve(&self, route: &Route) -> Result<Option<Case>, StoreError> {
        if let Some(named) = &route.case {
            return self.find(named).await;
        }
        for message in &route.thread {
            if let Some(case) = self.find(&CaseRef::Message(message.clone())).await? {
                return Ok(Some(case));
            }
        }
        if let Some(customer) = &route.customer {
            if let Some(id) = self.store.lookup(&Key::Customer(customer.clone())).await? {
                if let Some(case) = self.follow(id).await? {
                    if !case.is_closed() {
                        return Ok(Some(case));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The case a reference names, following merges.
    pub async fn find(&self, reference: &CaseRef) -> Result<Option<Case>, StoreError> {
        let id = match reference {
            CaseRef::Id(id) => id.clone(),
            CaseRef::Message(message) => match self.store.lookup(&Key::Message(message.clone())).await? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        self.follow(id).await
    }

    async fn follow(&self, mut id: CaseId) -> Result<Option<Case>, StoreError> {
        for _ in 0..8 {
            match self.store.load(&id).await? {
                Some(case) => match &case.merged_into {
                    Some(into) => id = into.clone(),
                    None => return Ok(Some(case)),
                },
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Evaluates every due case at `now`, records what is due and publishes the alerts.
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        for id in self.store.due(now).await? {
            report.cases_due += 1;
            let mut done = false;
            for _ in 0..MAX_ATTEMPTS {
                let Some(mut case) = self.store.load(&id).await? else { break };
                let events = engine::evaluate(&case, now, &self.policy);
                if events.is_empty() && case.next_due.is_some_and(|d| d > now) {
                    done = true;
                    break;
                }
                let expected = case.version;
                engine::commit(&mut case, events.clone(), &self.policy);
                match self.store.save(Write { cases: vec![(&case, expected)], ..Write::default() }).await {
                    Err(SaveError::Conflict) => continue,
                    Err(SaveError::Store(e)) => return Err(e.into()),
                    // A sweep's write carries no source id, so it is never a duplicate.
                    Err(SaveError::AlreadySeen) | Ok(()) => {}
                }
                for event in events {
                    match Alert::build(&case, &event, &self.policy) {
                        Some(alert) => {
                            self.notifier.publish(&alert).await?;
                            report.alerts.push((alert, event));
                        }
                        None => report.events.push((case.id.clone(), event)),
                    }
                }
                done = true;
                break;
            }
            if !done {
                return Err(ServiceError::Contended(id.to_string()));
            }
        }
        Ok(report)
    }
}
