//! The service: routes signals to cases and runs the sweep, over any [`Store`] and [`Notifier`]. The
//! functions and the replay both drive Baton through here, so they share every code path.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::domain::alert::Alert;
use crate::domain::case::{Case, Event};
use crate::domain::engine::{self, Rejection};
use crate::domain::ids::{CaseId, Identity, MessageRef, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;
use crate::ingest::{CaseRef, Inbound, Route};
use crate::notify::{Notifier, NotifyError, Outbound};
use crate::store::{Change, Key, OutboxEntry, SaveError, Store, StoreError, Write};
use futures::StreamExt;

/// How often a write is tried after another writer changed the case. With the backoff below, the
/// attempts span about 10 seconds: 50 writers on one case all get through.
const MAX_ATTEMPTS: u32 = 40;
/// The backoff between attempts: random, up to `BACKOFF_BASE * 2^attempt`, at most `BACKOFF_CAP`.
const BACKOFF_BASE: Duration = Duration::from_millis(5);
const BACKOFF_CAP: Duration = Duration::from_millis(400);

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
    /// What was being written (`signal <source id>`, `sweep of case <id>`): its case kept changing.
    #[error("{0}: the case kept changing under us; gave up after {MAX_ATTEMPTS} attempts")]
    Contended(String),
}

/// What an erasure did: the identities erased (the one asked for and those linked to it) and the
/// cases anonymised.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    pub identities: BTreeSet<Identity>,
    pub cases: BTreeSet<CaseId>,
}

/// The message references a case has recorded already, and which case holds each.
type Recorded = std::collections::HashMap<MessageRef, CaseId>;

/// What one sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub cases_due: usize,
    /// The alerts raised, each with the event that raised it (published, unless in `unpublished`).
    pub alerts: Vec<(Alert, Event)>,
    /// Alerts an earlier sweep left in the outbox, published now.
    pub recovered: Vec<Alert>,
    /// Alerts that could not be published: they stay in the outbox for the next sweep.
    pub unpublished: Vec<NotifyError>,
    /// Other events recorded (expired confirmation windows).
    pub events: Vec<(CaseId, Event)>,
    /// Due cases not started before the deadline: the next sweep takes them.
    pub left_for_next_run: usize,
    /// Outbox alerts not published before the deadline: the next sweep takes them.
    pub alerts_left_for_next_run: usize,
    /// Closed cases deleted because their retention was over.
    pub purged: Vec<CaseId>,
    /// Cases whose sweep failed, with the reason; the others went on.
    pub failed: Vec<(CaseId, String)>,
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
        let inbound = &self.kept(inbound);
        for attempt in 0..MAX_ATTEMPTS {
            backoff(attempt).await;
            // Boxed: the nested futures of an ingest (down to the SDK's requests) are otherwise deep
            // enough that a fresh build of the functions' crates hits rustc's query depth limit.
            match Box::pin(self.try_ingest(inbound, attempt)).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::AlreadySeen) => return Ok(Outcome::Duplicate),
                Err(SaveError::Store(e)) => return Err(e.into()),
                Ok(outcome) => return Ok(outcome),
            }
        }
        Err(ServiceError::Contended(format!("signal {}", inbound.signal.source)))
    }

    /// What is kept of an inbound signal: the excerpt cut to the policy's length (or dropped), and
    /// the message's own references, so that an erasure or a deletion finds them on the timeline.
    fn kept(&self, inbound: &Inbound) -> Inbound {
        let mut kept = inbound.clone();
        kept.signal.excerpt = inbound.signal.excerpt.as_deref().and_then(|t| self.policy.data.excerpt(t));
        kept.signal.refs.clone_from(&inbound.route.own);
        kept
    }

    /// Erases the excerpt of a message its platform says was deleted (X's `tweet_delete_events`):
    /// the case keeps the event and its timing. Returns the case changed, if any held the message.
    pub async fn forget_message(&self, reference: &MessageRef) -> Result<Option<CaseId>, ServiceError> {
        for attempt in 0..MAX_ATTEMPTS {
            backoff(attempt).await;
            let Some(id) = self.store.lookup(&Key::Message(reference.clone())).await? else { return Ok(None) };
            let Some(before) = self.store.load_whole(&id).await? else { return Ok(None) };
            let Some(after) = before.without_excerpt_of(reference) else { return Ok(None) };
            let write = Write { cases: vec![Change::new(Some(&before), &after)], ..Write::default() };
            match self.store.save(write).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Store(e)) => return Err(e.into()),
                Err(SaveError::AlreadySeen) | Ok(()) => return Ok(Some(id)),
            }
        }
        Err(ServiceError::Contended(format!("deletion of message {reference}")))
    }

    /// Erases a customer (`DELETE /customers/{identity}`): every case that held this identity, or
    /// another identity of the same customer (linked on one of those cases), loses its identities,
    /// excerpts, message references and source ids, and the keys that led to it are deleted. The
    /// anonymous timing (owners, clocks, instants) stays for the statistics. Running it again finishes
    /// an erasure that failed half-way; for an unknown identity it erases nothing.
    pub async fn erase_customer(&self, identity: &Identity) -> Result<Erasure, ServiceError> {
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
                let cases = self.store.cases_of(&identity).await?;
                if cases.is_empty() {
                    break;
                }
                rounds += 1;
                if rounds > 3 {
                    return Err(ServiceError::Contended(format!("erasure: new cases keep opening ({})", cases.len())));
                }
                for id in cases {
                    let Some(held) = self.erase_case(&id, &identity).await? else { continue };
                    pending.extend(held.into_iter().filter(|i| !erasure.identities.contains(i)));
                    erasure.cases.insert(id);
                }
            }
        }
        Ok(erasure)
    }

    /// Anonymises one case; returns the identities it held (the same customer's), or `None` when the
    /// index named a case that is gone (its entry is removed).
    async fn erase_case(&self, id: &CaseId, identity: &Identity) -> Result<Option<BTreeSet<Identity>>, ServiceError> {
        for attempt in 0..MAX_ATTEMPTS {
            backoff(attempt).await;
            let Some(before) = self.store.load_whole(id).await? else {
                self.store.unindex(identity, std::slice::from_ref(id)).await?;
                return Ok(None);
            };
            // The keys first, then the case, then the index that found it: an erasure that fails
            // half-way still finds what is left when it runs again.
            self.store.forget(&crate::store::keys_of(&before, [identity]), None).await?;
            self.store.unsee(&signal_sources(&before)).await?;
            let after = before.anonymized();
            match self.store.replace(Change::replacing(&before, &after)).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Store(e)) => return Err(e.into()),
                Err(SaveError::AlreadySeen) | Ok(()) => {}
            }
            for held in before.identities.iter().chain([identity]) {
                self.store.unindex(held, std::slice::from_ref(id)).await?;
            }
            return Ok(Some(before.identities));
        }
        Err(ServiceError::Contended(format!("erasure of case {id}")))
    }

    /// One attempt; `attempt` also picks the id a new case tries (a collision fails the write as a
    /// conflict, and the next attempt tries the next id).
    async fn try_ingest(&self, inbound: &Inbound, attempt: u32) -> Result<Outcome, SaveError> {
        let policy = &self.policy;
        let signal = &inbound.signal;
        let (found, recorded) = self.resolve(&inbound.route).await?;
        let Some(mut before) = found else {
            if inbound.route.case.is_some() {
                return Ok(Outcome::UnknownCase);
            }
            return self.open(inbound, attempt, &recorded).await;
        };
        // A message from one identity more than the case may hold opens a case of its own.
        if let SignalKind::CustomerMessage { identity, .. } = &signal.kind
            && !engine::takes_identity(&before, identity)
        {
            return self.open(inbound, attempt, &recorded).await;
        }
        if engine::is_full(&before) {
            return self.continue_full(before, inbound, attempt, &recorded).await;
        }
        // A merge, or a signal that belongs before the last event, rebuilds the case from its past.
        let other = match &signal.kind {
            SignalKind::Link { identity } => self.store.lookup(&Key::Customer(identity.clone())).await?,
            _ => None,
        };
        let other = match other.filter(|id| *id != before.id) {
            Some(id) => self.store.load_whole(&id).await?.filter(|o| !o.is_closed()),
            None => None,
        };
        if engine::signal_needs_history(&before, signal) || (other.is_some() && !before.is_whole()) {
            before = self.store.load_whole(&before.id).await?.ok_or(SaveError::Conflict)?;
        }
        let mut case = before.clone();
        if let Err(rejection) = engine::apply(&mut case, signal.clone(), policy) {
            // A retried delivery of a signal that was applied may no longer fit the case (an accept
            // after the accept): it is a duplicate, not a refusal.
            if self.store.was_seen(&signal.source).await? {
                return Ok(Outcome::Duplicate);
            }
            return Ok(Outcome::Rejected(rejection));
        }
        let mut keys = self.keys_for(&inbound.route, &case.id, &recorded);
        if let SignalKind::Link { identity } = &signal.kind {
            keys.push((Key::Customer(identity.clone()), case.id.clone()));
        }
        let mut absorbed = None;
        if let Some(other_before) = other {
            if let Err(rejection) = engine::check_merge(&case, &other_before) {
                return Ok(Outcome::Rejected(rejection));
            }
            let mut other = other_before.clone();
            engine::merge(&mut case, &mut other, signal.at, &signal.source, policy);
            keys.extend(other.identities.iter().map(|i| (Key::Customer(i.clone()), case.id.clone())));
            absorbed = Some((other_before, other));
        }
        let mut cases = vec![Change::new(Some(&before), &case)];
        if let Some((other_before, other)) = &absorbed {
            cases.push(Change::new(Some(other_before), other));
        }
        self.store.save(Write { cases, keys, seen: Some(signal.source.clone()), ..Write::default() }).await?;
        Ok(Outcome::Applied { case: case.id.clone(), opened: false })
    }

    /// A signal for a full case (see [`MAX_EVENTS`](crate::domain::case::MAX_EVENTS)): the case is closed as continued, and the
    /// signal applied to its continuation, which holds its state, in one write.
    async fn continue_full(
        &self,
        full: Case,
        inbound: &Inbound,
        attempt: u32,
        recorded: &Recorded,
    ) -> Result<Outcome, SaveError> {
        let policy = &self.policy;
        let signal = &inbound.signal;
        let id = CaseId::derive(&policy.case_prefix, &format!("{}:continued", full.id), attempt);
        let (closing, mut next) = engine::continuation(&full, id, signal.at, policy);
        if let Err(rejection) = engine::apply(&mut next, signal.clone(), policy) {
            return Ok(Outcome::Rejected(rejection));
        }
        let mut closed = full.clone();
        engine::commit(&mut closed, vec![closing], policy);
        tracing::info!(case = %full.id, continuation = %next.id, "a full case goes on in its continuation");
        let keys = self.keys_for(&inbound.route, &next.id, recorded);
        self.store
            .save(Write {
                cases: vec![Change::new(Some(&full), &closed), Change::new(None, &next)],
                keys,
                seen: Some(signal.source.clone()),
                ..Write::default()
            })
            .await?;
        Ok(Outcome::Applied { case: next.id.clone(), opened: false })
    }

    async fn open(&self, inbound: &Inbound, attempt: u32, recorded: &Recorded) -> Result<Outcome, SaveError> {
        let signal = &inbound.signal;
        if !matches!(signal.kind, SignalKind::CustomerMessage { .. }) {
            return Ok(Outcome::Unrouted("no case to put it on, and only a customer's message opens one"));
        }
        let owner = inbound.route.team.clone().unwrap_or_else(|| self.intake_team());
        let id = CaseId::derive(&self.policy.case_prefix, &signal.source, attempt);
        let case = match engine::open(id, owner, signal.clone(), &self.policy) {
            Ok(case) => case,
            Err(rejection) => return Ok(Outcome::Rejected(rejection)),
        };
        let keys = self.keys_for(&inbound.route, &case.id, recorded);
        self.store
            .save(Write {
                cases: vec![Change::new(None, &case)],
                keys,
                seen: Some(signal.source.clone()),
                ..Write::default()
            })
            .await?;
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

    /// The keys a signal's write points at case `id`: its own message references (but those another
    /// case recorded first, which stay with it) and its customer.
    fn keys_for(&self, route: &Route, id: &CaseId, recorded: &Recorded) -> Vec<(Key, CaseId)> {
        let mut keys: Vec<(Key, CaseId)> = route
            .own
            .iter()
            .filter(|r| recorded.get(*r).is_none_or(|held| held == id))
            .map(|r| (Key::Message(r.clone()), id.clone()))
            .collect();
        for taken in route.own.iter().filter(|r| recorded.get(*r).is_some_and(|held| held != id)) {
            tracing::warn!(case = %id, held_by = %recorded[taken], "a message reference another case recorded first is left with it");
        }
        if let Some(customer) = &route.customer {
            keys.push((Key::Customer(customer.clone()), id.clone()));
        }
        keys
    }

    /// Finds the case a route points at: the case named, else the case its tag names (when the
    /// sender may follow it), else a thread, else the customer's open case. Also says which of the
    /// message's own references a case has recorded already (in the same read).
    async fn resolve(&self, route: &Route) -> Result<(Option<Case>, Recorded), StoreError> {
        let own: Vec<Key> = route.own.iter().cloned().map(Key::Message).collect();
        if let Some(named) = &route.case {
            let recorded =
                if own.is_empty() { Recorded::new() } else { self.recorded(&own, self.store.lookup_many(&own).await?) };
            return Ok((self.find(named).await?, recorded));
        }
        // Every reference in one read; the first that leads to a case wins.
        let mut keys: Vec<Key> = route.thread.iter().cloned().map(Key::Message).collect();
        keys.extend(route.customer.iter().cloned().map(Key::Customer));
        let routing = keys.len();
        keys.extend(own);
        let mut found = if keys.is_empty() { Vec::new() } else { self.store.lookup_many(&keys).await? };
        let recorded = self.recorded(&keys[routing..], found.split_off(routing.min(found.len())));
        if let Some(tag) = &route.tag {
            match self.follow(tag.clone()).await? {
                Some(case) if route.sender.may_follow_tag(&case, route.customer.as_ref()) => {
                    return Ok((Some(case), recorded));
                }
                Some(case) => {
                    tracing::warn!(case = %case.id, "an unauthenticated mail's tag names a case it may not join: routed without it")
                }
                None => tracing::info!("a mail's tag names no case: routed without it"),
            }
        }
        Ok((self.first_case(&keys[..routing], found).await?, recorded))
    }

    fn recorded(&self, own: &[Key], found: Vec<Option<CaseId>>) -> Recorded {
        own.iter()
            .zip(found)
            .filter_map(|(key, id)| match (key, id) {
                (Key::Message(r), Some(id)) => Some((r.clone(), id)),
                _ => None,
            })
            .collect()
    }

    /// The first of `keys` (looked up as `found`) that leads to a case it may lead to.
    async fn first_case(&self, keys: &[Key], found: Vec<Option<CaseId>>) -> Result<Option<Case>, StoreError> {
        for (key, id) in keys.iter().zip(found) {
            let Some(case) = (match id {
                Some(id) => self.follow(id).await?,
                None => None,
            }) else {
                continue;
            };
            // A thread leads to its case even when closed (a reply reopens it); a customer's
            // identity only to an open case.
            if matches!(key, Key::Message(_)) || !case.is_closed() {
                return Ok(Some(case));
            }
        }
        Ok(None)
    }

    /// The case a reference names, following merges, with its whole timeline (`GET /cases/{case}`).
    pub async fn show(&self, reference: &CaseRef) -> Result<Option<Case>, StoreError> {
        match self.find(reference).await? {
            Some(case) => self.store.load_whole(&case.id).await,
            None => Ok(None),
        }
    }

    /// The case a reference names, following merges (without its history).
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

    /// The case `id` names, or the case it was merged into or continued in.
    async fn follow(&self, mut id: CaseId) -> Result<Option<Case>, StoreError> {
        for _ in 0..64 {
            match self.store.load(&id).await? {
                Some(case) => match case.merged_into.as_ref().or(case.continued_in.as_ref()) {
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
        self.sweep_with(now, &SweepOptions::default()).await
    }

    /// The sweep: first the alerts an earlier sweep left in the outbox, then every due case. Cases
    /// are swept `options.concurrency` at a time; none is started after `options.stop_at`, and those
    /// left wait for the next run (they stay due). A case that fails is reported and the others go on.
    pub async fn sweep_with(&self, now: Timestamp, options: &SweepOptions) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        let stop_at = options.stop_at;
        let past = |stop: Option<tokio::time::Instant>| stop.is_some_and(|stop| tokio::time::Instant::now() >= stop);
        for message in self.store.claim_outbox(now, now + OUTBOX_CLAIM).await? {
            // After a long outage the outbox may hold more than one run can publish: past the
            // deadline, give the rest back at once for the next run.
            if past(stop_at) {
                self.store.release(&message, now + OUTBOX_CLAIM).await?;
                report.alerts_left_for_next_run += 1;
                continue;
            }
            match self.deliver(&message, now).await {
                Ok(()) => report.recovered.push(message.alert),
                Err(e) => report.unpublished.push(e),
            }
        }
        let due = self.store.due(now).await?;
        report.cases_due = due.len();
        let mut sweeps = futures::stream::iter(due)
            .map(|id| async move {
                if past(stop_at) {
                    return (id, None);
                }
                let result = self.sweep_case(&id, now).await;
                (id, Some(result))
            })
            .buffered(options.concurrency.max(1));
        while let Some((id, result)) = sweeps.next().await {
            match result {
                None => report.left_for_next_run += 1,
                Some(Err(e)) => report.failed.push((id, e.to_string())),
                Some(Ok(swept)) => {
                    if swept.purged {
                        report.purged.push(id.clone());
                    }
                    report.events.extend(swept.events.into_iter().map(|e| (id.clone(), e)));
                    report.unpublished.extend(swept.unpublished);
                    report.alerts.extend(swept.alerts);
                }
            }
        }
        Ok(report)
    }

    /// One due case: evaluate, record the steps and their alerts (in the outbox) in one write, then
    /// publish them.
    async fn sweep_case(&self, id: &CaseId, now: Timestamp) -> Result<CaseSweep, ServiceError> {
        for attempt in 0..MAX_ATTEMPTS {
            backoff(attempt).await;
            let Some(mut before) = self.store.load(id).await? else { return Ok(CaseSweep::default()) };
            let mut events = engine::evaluate(&before, now, &self.policy);
            if engine::needs_history(&before, &events) {
                let Some(whole) = self.store.load_whole(id).await? else { return Ok(CaseSweep::default()) };
                before = whole;
                events = engine::evaluate(&before, now, &self.policy);
            }
            if events.is_empty() && before.next_due.is_some_and(|d| d > now) {
                return Ok(CaseSweep::default());
            }
            if before.is_closed() {
                // Nothing else is due on a closed case: its retention is over.
                return self.purge(id).await;
            }
            let mut case = before.clone();
            engine::commit(&mut case, events.clone(), &self.policy);
            let mut swept = CaseSweep::default();
            let mut outbox = Vec::new();
            for event in events {
                match Alert::build(&case, &event, &self.policy) {
                    Some(alert) => {
                        let message = Outbound { id: event.source.clone(), alert };
                        outbox.push(OutboxEntry { message: message.clone(), claimed_until: now + OUTBOX_CLAIM });
                        swept.alerts.push((message.alert, event));
                    }
                    None => swept.events.push(event),
                }
            }
            let change = Change::new(Some(&before), &case);
            match self.store.save(Write { cases: vec![change], outbox: outbox.clone(), ..Write::default() }).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Store(e)) => return Err(e.into()),
                // A sweep's write carries no source id, so it is never a duplicate.
                Err(SaveError::AlreadySeen) | Ok(()) => {}
            }
            for entry in outbox {
                if let Err(e) = self.deliver(&entry.message, now).await {
                    swept.unpublished.push(e);
                }
            }
            return Ok(swept);
        }
        Err(ServiceError::Contended(format!("sweep of case {id}")))
    }

    /// Deletes a closed case whose retention is over: the keys that point at it, the case and its
    /// timeline, then its entries in the customer index (so that an erasure still finds a case whose
    /// deletion failed half-way; the next sweep tries again, since the case stays due).
    async fn purge(&self, id: &CaseId) -> Result<CaseSweep, ServiceError> {
        for attempt in 0..MAX_ATTEMPTS {
            backoff(attempt).await;
            let Some(case) = self.store.load_whole(id).await? else { return Ok(CaseSweep::default()) };
            self.store.forget(&crate::store::keys_of(&case, []), Some(id)).await?;
            match self.store.purge(&case).await {
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Store(e)) => return Err(e.into()),
                Err(SaveError::AlreadySeen) | Ok(()) => {}
            }
            for identity in &case.identities {
                self.store.unindex(identity, std::slice::from_ref(id)).await?;
            }
            return Ok(CaseSweep { purged: true, ..CaseSweep::default() });
        }
        Err(ServiceError::Contended(format!("deletion of case {id}")))
    }

    /// Publishes a claimed outbox message and removes it from the outbox; on failure, gives up the
    /// claim so that the next sweep tries again.
    async fn deliver(&self, message: &Outbound, now: Timestamp) -> Result<(), NotifyError> {
        match self.notifier.publish(message).await {
            Ok(()) => {
                // Published: a failure to clear it only means the next sweep publishes it again,
                // which SNS FIFO deduplication absorbs.
                if let Err(e) = self.store.sent(message).await {
                    tracing::warn!(alert = %message.id, error = %e, "published, but not cleared from the outbox");
                }
                Ok(())
            }
            Err(e) => {
                if let Err(release) = self.store.release(message, now + OUTBOX_CLAIM).await {
                    tracing::warn!(alert = %message.id, error = %release, "could not release the outbox claim");
                }
                Err(e)
            }
        }
    }
}

/// The source ids of a case's signals: platform message ids, in the dedupe entries.
fn signal_sources(case: &Case) -> Vec<String> {
    let signals = case.timeline.iter().filter(|e| matches!(e.kind, crate::domain::case::EventKind::Signal { .. }));
    let mut sources: Vec<String> = signals.map(|e| e.source.clone()).filter(|s| !s.starts_with("erased:")).collect();
    // One batch may not name a key twice.
    sources.sort();
    sources.dedup();
    sources
}

/// How long a sweep holds the alerts it wrote or took from the outbox before another sweep may
/// publish them: longer than a publish takes, shorter than the minute between sweeps.
pub const OUTBOX_CLAIM: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// How many cases are swept at once.
    pub concurrency: usize,
    /// No case is started after this instant (the function's deadline, less a margin).
    pub stop_at: Option<tokio::time::Instant>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self { concurrency: 16, stop_at: None }
    }
}

#[derive(Debug, Default)]
struct CaseSweep {
    purged: bool,
    alerts: Vec<(Alert, Event)>,
    events: Vec<Event>,
    unpublished: Vec<NotifyError>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Channel, Identity};
    use crate::domain::signal::Signal;
    use crate::notify::Collect;
    use crate::store::memory::MemoryStore;

    /// A store whose every save loses the race.
    struct AlwaysContended(MemoryStore);

    impl Store for AlwaysContended {
        async fn load(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
            self.0.load(id).await
        }
        async fn load_whole(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
            self.0.load_whole(id).await
        }
        async fn lookup_many(&self, keys: &[Key]) -> Result<Vec<Option<CaseId>>, StoreError> {
            self.0.lookup_many(keys).await
        }
        async fn save(&self, _: Write<'_>) -> Result<(), SaveError> {
            Err(SaveError::Conflict)
        }
        async fn due(&self, now: Timestamp) -> Result<Vec<CaseId>, StoreError> {
            self.0.due(now).await
        }
        async fn was_seen(&self, source: &str) -> Result<bool, StoreError> {
            self.0.was_seen(source).await
        }
        async fn earliest_due(&self) -> Result<Option<Timestamp>, StoreError> {
            self.0.earliest_due().await
        }
        async fn claim_outbox(&self, now: Timestamp, until: Timestamp) -> Result<Vec<Outbound>, StoreError> {
            self.0.claim_outbox(now, until).await
        }
        async fn sent(&self, message: &Outbound) -> Result<(), StoreError> {
            self.0.sent(message).await
        }
        async fn release(&self, message: &Outbound, until: Timestamp) -> Result<(), StoreError> {
            self.0.release(message, until).await
        }
        async fn cases_of(&self, identity: &Identity) -> Result<Vec<CaseId>, StoreError> {
            self.0.cases_of(identity).await
        }
        async fn forget(&self, keys: &[Key], only_to: Option<&CaseId>) -> Result<(), StoreError> {
            self.0.forget(keys, only_to).await
        }
        async fn unsee(&self, sources: &[String]) -> Result<(), StoreError> {
            self.0.unsee(sources).await
        }
        async fn unindex(&self, identity: &Identity, cases: &[CaseId]) -> Result<(), StoreError> {
            self.0.unindex(identity, cases).await
        }
        async fn replace(&self, _: Change<'_>) -> Result<(), SaveError> {
            Err(SaveError::Conflict)
        }
        async fn purge(&self, _: &Case) -> Result<(), SaveError> {
            Err(SaveError::Conflict)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_keeps_conflicting_gives_up_with_a_clear_error() {
        let baton =
            Baton::new(AlwaysContended(MemoryStore::new()), Collect::default(), Arc::new(Policy::default_policy()));
        let identity = Identity::Email("max@example.ch".into());
        let signal = Signal::new(
            "2026-04-13T08:00:00Z".parse().unwrap(),
            "ses:abc",
            SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
        );
        let inbound = Inbound { signal, route: Route::default() };
        let started = tokio::time::Instant::now();
        let error = baton.ingest(&inbound).await.unwrap_err();
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
        assert_eq!(failed.unpublished.len(), 1);
        baton.notifier.down.store(false, std::sync::atomic::Ordering::SeqCst);

        let late = SweepOptions { stop_at: Some(tokio::time::Instant::now()), ..SweepOptions::default() };
        let report = baton.sweep_with("2026-04-13T12:01:00Z".parse().unwrap(), &late).await.unwrap();
        assert_eq!((report.recovered.len(), report.alerts_left_for_next_run), (0, 1));
        assert!(baton.notifier.sent.lock().unwrap().is_empty());
        // Given back, not held: the very next run publishes it.
        let next = baton.sweep("2026-04-13T12:01:10Z".parse().unwrap()).await.unwrap();
        assert_eq!(next.recovered.len(), 1);
        assert_eq!(baton.notifier.sent.lock().unwrap().len(), 1);
    }
}
