//! Ingest: one inbound signal onto its case. Routes the signal (the case named, a tag, a thread, the
//! customer's open case), applies it through the engine, and records the change, the keys that lead
//! to the case and the signal's source id in one write. Also the platform's deletion of a message.

use super::ServiceError;
use super::query;
use super::retry::retry_on_conflict;
use crate::domain::case::{Case, Whole};
use crate::domain::engine::{self, NeedsHistory, Rejection};
use crate::domain::ids::{CaseId, MessageRef};
use crate::domain::measure::Measure;
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};
use crate::ingest::{Inbound, Route};
use crate::probe::{self, Part};
use crate::store::{Change, Key, Record, SaveError, StoreError, Write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to a case (`opened`: the signal opened it), with what it did to the case's clocks
    /// and holds (the functions emit them as metrics).
    Applied { case: CaseId, opened: bool, measures: Vec<Measure> },
    /// The same source id was applied before.
    Duplicate,
    /// No case to put it on (an agent's mail to nobody Baton knows, ...).
    Unrouted(&'static str),
    /// The engine refused it; the reason says what to answer.
    Rejected(Rejection),
    /// `{case}` names no case.
    UnknownCase,
}

/// What the route's lookup found: the case each of the message's own references and its customer's
/// key already leads to. A key that already leads to the case being written is not written again
/// (each is an item of the transaction, 2 write units).
type Recorded = std::collections::HashMap<Key, CaseId>;

/// The ingest use case over a store that can record.
pub struct Ingest<'a, S> {
    store: &'a S,
    policy: &'a Policy,
}

impl<'a, S: Record> Ingest<'a, S> {
    pub fn new(store: &'a S, policy: &'a Policy) -> Self {
        Self { store, policy }
    }

    pub fn store(&self) -> &'a S {
        self.store
    }

    pub fn policy(&self) -> &'a Policy {
        self.policy
    }

    /// Applies one inbound signal to its case, opening a case for a customer's first message.
    pub async fn ingest(&self, inbound: &Inbound) -> Result<Outcome, ServiceError> {
        let inbound = &self.kept(inbound);
        // Boxed: the nested futures of an ingest (down to the SDK's requests) are otherwise deep
        // enough that a fresh build of the functions' crates hits rustc's query depth limit.
        let applied = retry_on_conflict(
            || format!("signal {}", inbound.signal.source),
            |attempt| Box::pin(self.try_ingest(inbound, attempt)),
        );
        match applied.await {
            Err(ServiceError::AlreadyApplied) => Ok(Outcome::Duplicate),
            other => other,
        }
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
        retry_on_conflict(
            || format!("deletion of message {reference}"),
            |_| async move {
                let Some(id) = self.store.lookup(&Key::Message(reference.clone())).await? else { return Ok(None) };
                let Some(before) = self.store.load_whole(&id).await? else { return Ok(None) };
                let Some(after) = before.without_excerpt_of(reference) else { return Ok(None) };
                let write = Write { cases: vec![Change::new(Some(&before), &after)], ..Write::default() };
                self.store.save(write).await?;
                Ok(Some(id))
            },
        )
        .await
    }

    /// One attempt; `attempt` also picks the id a new case tries (a collision fails the write as a
    /// conflict, and the next attempt tries the next id).
    async fn try_ingest(&self, inbound: &Inbound, attempt: u32) -> Result<Outcome, SaveError> {
        let policy = self.policy;
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
        // A link to another open case of the customer merges it: both whole, since a merge rebuilds.
        let other = match &signal.kind {
            SignalKind::Link { identity } => self.store.lookup(&Key::Customer(identity.clone())).await?,
            _ => None,
        };
        let other = match other.filter(|id| id != before.id()) {
            Some(id) => self.store.load_whole(&id).await?.filter(|o| !o.is_closed()),
            None => None,
        };
        if let Some(other) = other {
            let whole = match before.into_whole() {
                Ok(whole) => whole,
                Err(partial) => self.store.load_whole(partial.id()).await?.ok_or(SaveError::Conflict)?,
            };
            return self.merge(whole, other, inbound, &recorded).await;
        }
        let mut case = before.clone();
        // The copies are made outside the timed calls: the probe times the engine, not them.
        let copy = signal.clone();
        let mut applied = probe::time(Part::Engine, || engine::apply(&mut case, copy, policy));
        if let Err(Rejection::NeedsHistory(_)) = applied {
            // The signal belongs before the last event: the case is rebuilt from its whole past.
            before = self.store.load_whole(before.id()).await?.ok_or(SaveError::Conflict)?.into_case();
            case = before.clone();
            let copy = signal.clone();
            applied = probe::time(Part::Engine, || engine::apply(&mut case, copy, policy));
        }
        if let Err(rejection) = applied {
            return self.refused(signal, rejection).await;
        }
        let keys = self.signal_keys(inbound, case.id(), &recorded);
        let (measures, figures) = super::measured(&before, &case, signal.at, policy);
        let write = Write { cases: vec![Change::new(Some(&before), &case)], keys, figures, ..Write::default() };
        self.store.save(Write { seen: Some(signal.source.clone()), ..write }).await?;
        Ok(Outcome::Applied { case: case.id().clone(), opened: false, measures })
    }

    /// A link that merges `other` (another open case of the same customer) into `before`, in one
    /// write: the linked case, the absorbed one, and the keys of both customers' identities.
    async fn merge(
        &self,
        before: Whole,
        other: Whole,
        inbound: &Inbound,
        recorded: &Recorded,
    ) -> Result<Outcome, SaveError> {
        let signal = &inbound.signal;
        let mut case = before.clone();
        let copy = signal.clone();
        if let Err(rejection) = probe::time(Part::Engine, || engine::apply_whole(&mut case, copy, self.policy)) {
            return self.refused(signal, rejection).await;
        }
        if let Err(rejection) = engine::check_merge(&case, &other) {
            return Ok(Outcome::Rejected(rejection));
        }
        let mut absorbed = other.clone();
        probe::time(Part::Engine, || engine::merge(&mut case, &mut absorbed, signal.at, &signal.source, self.policy));
        let mut keys = self.signal_keys(inbound, case.id(), recorded);
        keys.extend(absorbed.identities().iter().map(|i| (Key::Customer(i.clone()), case.id().clone())));
        let cases = vec![Change::new(Some(&before), &case), Change::new(Some(&other), &absorbed)];
        self.store.save(Write { cases, keys, seen: Some(signal.source.clone()), ..Write::default() }).await?;
        Ok(Outcome::Applied { case: case.id().clone(), opened: false, measures: Vec::new() })
    }

    /// The engine refused a signal. A retried delivery of a signal that was applied may no longer
    /// fit the case (an accept after the accept): it is a duplicate, not a refusal.
    async fn refused(&self, signal: &Signal, rejection: Rejection) -> Result<Outcome, SaveError> {
        if self.store.was_seen(&signal.source).await? {
            return Ok(Outcome::Duplicate);
        }
        Ok(Outcome::Rejected(rejection))
    }

    /// The keys an applied signal points at its case: the route's (see [`Self::keys_for`]) and,
    /// for a link, the linked identity.
    fn signal_keys(&self, inbound: &Inbound, id: &CaseId, recorded: &Recorded) -> Vec<(Key, CaseId)> {
        let mut keys = self.keys_for(&inbound.route, id, recorded);
        if let SignalKind::Link { identity } = &inbound.signal.kind {
            keys.push((Key::Customer(identity.clone()), id.clone()));
        }
        keys
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
        let policy = self.policy;
        let signal = &inbound.signal;
        let id = CaseId::derive(&policy.case_prefix, &format!("{}:continued", full.id()), attempt);
        let (closing, mut next) = probe::time(Part::Engine, || engine::continuation(&full, id, signal.at, policy));
        let carried = next.clone();
        let copy = signal.clone();
        if let Err(rejection) = probe::time(Part::Engine, || engine::apply(&mut next, copy, policy)) {
            return Ok(Outcome::Rejected(rejection));
        }
        // What the signal did, from the state the continuation carries in (counted in the full case).
        let (measures, figures) = super::measured(&carried, &next, signal.at, policy);
        let mut closed = full.clone();
        let mut full = full;
        let closings = vec![closing.clone()];
        if let Err(NeedsHistory) = probe::time(Part::Engine, || engine::commit(&mut closed, closings, policy)) {
            // The signal belongs before the full case's last event: it closes from its whole past.
            let whole = self.store.load_whole(full.id()).await?.ok_or(SaveError::Conflict)?;
            let mut changed = whole.clone();
            probe::time(Part::Engine, || engine::commit_whole(&mut changed, vec![closing], policy));
            (full, closed) = (whole.into_case(), changed.into_case());
        }
        tracing::info!(case = %full.id(), continuation = %next.id(), "a full case goes on in its continuation");
        let keys = self.keys_for(&inbound.route, next.id(), recorded);
        self.store
            .save(Write {
                cases: vec![Change::new(Some(&full), &closed), Change::new(None, &next)],
                keys,
                seen: Some(signal.source.clone()),
                figures,
                ..Write::default()
            })
            .await?;
        Ok(Outcome::Applied { case: next.id().clone(), opened: false, measures })
    }

    async fn open(&self, inbound: &Inbound, attempt: u32, recorded: &Recorded) -> Result<Outcome, SaveError> {
        let signal = &inbound.signal;
        if !matches!(signal.kind, SignalKind::CustomerMessage { .. }) {
            return Ok(Outcome::Unrouted("no case to put it on, and only a customer's message opens one"));
        }
        let owner = inbound.route.team.clone().unwrap_or_else(|| self.policy.intake_team().clone());
        let id = CaseId::derive(&self.policy.case_prefix, &signal.source, attempt);
        let copy = signal.clone();
        let case = match probe::time(Part::Engine, || engine::open(id, owner, copy, self.policy)) {
            Ok(case) => case,
            Err(rejection) => return Ok(Outcome::Rejected(rejection)),
        };
        let keys = self.keys_for(&inbound.route, case.id(), recorded);
        self.store
            .save(Write {
                cases: vec![Change::new(None, &case)],
                keys,
                seen: Some(signal.source.clone()),
                ..Write::default()
            })
            .await?;
        Ok(Outcome::Applied { case: case.id().clone(), opened: true, measures: Vec::new() })
    }

    /// The keys a signal's write points at case `id`: its own message references (but those another
    /// case recorded first, which stay with it) and its customer.
    fn keys_for(&self, route: &Route, id: &CaseId, recorded: &Recorded) -> Vec<(Key, CaseId)> {
        let mut keys = Vec::new();
        for key in route.own.iter().cloned().map(Key::Message) {
            match recorded.get(&key) {
                None => keys.push((key, id.clone())),
                Some(held) if held == id => {}
                Some(held) => {
                    tracing::warn!(case = %id, held_by = %held, "a message reference another case recorded first is left with it");
                }
            }
        }
        if let Some(customer) = &route.customer {
            let key = Key::Customer(customer.clone());
            if recorded.get(&key) != Some(id) {
                keys.push((key, id.clone()));
            }
        }
        keys
    }

    /// Finds the case a route points at: the case named, else the case its tag names (when the
    /// sender may follow it), else a thread, else the customer's open case. Also says which of the
    /// message's own references a case has recorded already (in the same read).
    async fn resolve(&self, route: &Route) -> Result<(Option<Case>, Recorded), StoreError> {
        let own: Vec<Key> = route.own.iter().cloned().map(Key::Message).collect();
        if let Some(named) = &route.case {
            // The customer's key too, in the same read, so that a key already leading to the case
            // is not written again.
            let mut keys = own;
            keys.extend(route.customer.iter().cloned().map(Key::Customer));
            let recorded = if keys.is_empty() {
                Recorded::new()
            } else {
                self.recorded(&keys, &self.store.lookup_many(&keys).await?)
            };
            return Ok((query::find(self.store, named).await?, recorded));
        }
        // Every reference in one read; the first that leads to a case wins.
        let mut keys: Vec<Key> = route.thread.iter().cloned().map(Key::Message).collect();
        keys.extend(route.customer.iter().cloned().map(Key::Customer));
        let routing = keys.len();
        keys.extend(own);
        let mut found = if keys.is_empty() { Vec::new() } else { self.store.lookup_many(&keys).await? };
        let recorded = self.recorded(&keys, &found);
        found.truncate(routing);
        if let Some(tag) = &route.tag {
            match query::follow(self.store, tag.clone()).await? {
                Some(case) if route.sender.may_follow_tag(&case, route.customer.as_ref()) => {
                    return Ok((Some(case), recorded));
                }
                Some(case) => {
                    tracing::warn!(case = %case.id(), "an unauthenticated mail's tag names a case it may not join: routed without it")
                }
                None => tracing::info!("a mail's tag names no case: routed without it"),
            }
        }
        Ok((self.first_case(&keys[..routing], found).await?, recorded))
    }

    fn recorded(&self, keys: &[Key], found: &[Option<CaseId>]) -> Recorded {
        keys.iter().zip(found).filter_map(|(key, id)| Some((key.clone(), id.clone()?))).collect()
    }

    /// The first of `keys` (looked up as `found`) that leads to a case it may lead to.
    async fn first_case(&self, keys: &[Key], found: Vec<Option<CaseId>>) -> Result<Option<Case>, StoreError> {
        for (key, id) in keys.iter().zip(found) {
            let Some(case) = (match id {
                Some(id) => query::follow(self.store, id).await?,
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
}
