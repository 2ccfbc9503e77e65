//! The case: one customer matter, its owner, its clocks and its append-only timeline.
//!
//! [`Case::record`] is the one place state changes: it takes a timeline event, which cannot be
//! refused, and updates owner, state and clocks. The rules that decide *whether* a signal is allowed
//! live in [`super::engine`]. Because state is a fold over the timeline, a case can be rebuilt from
//! its events; merging two cases or placing a late event at its own time is a rebuild.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::clock::{AlertKind, Clock, ClockKind, ClockLevel, Clocks, Snooze, Step};
use super::ids::{CaseId, Channel, ChannelClass, Identity, MessageRef, Priority, TeamId};
use super::policy::Policy;
use super::signal::SignalKind;
use super::sorted::{SortedMap, SortedSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// The owning team works on it.
    Open,
    /// Handed to a team that has not taken it up yet.
    HandedOff,
    /// The team waits for the customer (set by a reply that says so).
    AwaitingCustomer,
    /// A resolution was proposed; the customer's confirmation is awaited.
    ResolutionProposed,
    Closed,
}

impl CaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::HandedOff => "handed_off",
            Self::AwaitingCustomer => "awaiting_customer",
            Self::ResolutionProposed => "resolution_proposed",
            Self::Closed => "closed",
        }
    }

    /// The organisation holds the ball: the customer is waiting on us.
    pub fn is_ours(self) -> bool {
        matches!(self, Self::Open | Self::HandedOff)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The customer confirmed the resolution.
    Confirmed,
    /// The confirmation window ran out.
    Unconfirmed,
    /// Merged into another case of the same customer.
    Merged,
    /// Full (see [`MAX_EVENTS`]): the case goes on in its continuation.
    Continued,
}

/// What the engine noticed about an event; shown on the timeline and in alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    /// The customer chased a message that had no answer yet, or a case that was handed off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_up: bool,
    /// The customer wrote on another channel than before while the case was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_hop: Option<Channel>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reopened: bool,
    /// A survey sent before the customer confirmed the resolution: a defect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub premature_survey: bool,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// How the marks read, in alerts and in the replay alike.
    pub fn labels(&self) -> Vec<String> {
        let mut labels = Vec::new();
        if self.follow_up {
            labels.push("follow-up".to_string());
        }
        if let Some(from) = self.channel_hop {
            labels.push(format!("channel hop from {from}"));
        }
        if self.public {
            labels.push("public".to_string());
        }
        if self.reopened {
            labels.push("reopened".to_string());
        }
        if self.premature_survey {
            labels.push("survey before resolution".to_string());
        }
        labels
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A signal that was applied.
    Signal { signal: SignalKind },
    /// An alert was raised: for a ladder step of `clock`; for the case (a reminder: `clock` and
    /// `step` are its most severe clock's, `clocks` every clock it lists); or because `clock`, which
    /// breached, stopped (`cleared`: `step` is the highest it reached, `stopped` says when, and why).
    Alerted {
        alert: AlertKind,
        clock: ClockKind,
        step: Step,
        level: u8,
        due_at: Timestamp,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        clocks: Vec<ClockLevel>,
        /// Boxed: an alert that clears is rare, and unboxed this was two thirds of every event's size
        /// (a timeline holds a million events in a long replay).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stopped: Option<Box<Stopped>>,
    },
    /// A closure or holiday ahead will make the case breach `customer_silence`.
    ClosureRisk { closure_starts: Timestamp, reopens: Timestamp, silence_due: Timestamp },
    /// The confirmation window ran out: closed as unconfirmed.
    ConfirmationExpired,
    /// Another case of the same customer was merged into this one.
    Absorbed { case: CaseId },
    /// This case was merged into another.
    MergedInto { case: CaseId },
    /// This case is full ([`MAX_EVENTS`]) and goes on in `case`, which holds its state from here.
    ContinuedIn { case: CaseId },
    /// This case continues `case`: its state at that moment (without its timeline), from which this
    /// case's own events go on. Always the first event of a continuation.
    Continues { case: CaseId, state: Box<Case> },
}

/// What stopped a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stop", rename_all = "snake_case")]
pub enum Stop {
    /// A reply the customer saw (by `by`, when Baton knows the team).
    Replied {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<TeamId>,
    },
    /// The receiving team accepted the handoff.
    Accepted { by: TeamId },
    /// A resolution was proposed.
    ResolutionProposed,
    /// The case was handed on to another team before this one took it up.
    HandedOn { to: TeamId },
    /// The case closed.
    Closed { reason: CloseReason },
    /// The customer wrote again while periodic updates were due: the response clock covers the
    /// customer now, and the breach is cleared by the next reply (or the closing), not by this.
    CustomerWrote,
}

/// A clock that breached and stopped: its `cleared` alert is due at `at`, the instant it stopped
/// (`None` while it waits for the reply that clears it, see [`Stop::CustomerWrote`]). The sweep
/// finds it through [`Case::next_due`] like a ladder step, and it leaves the case when its alert is
/// recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stopped {
    pub clock: ClockKind,
    /// The stopped clock's start: with the clock, it names this run (and the alert's source id).
    pub started_at: Timestamp,
    pub due_at: Timestamp,
    /// The highest ladder step the clock reached.
    pub reached: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    pub why: Stop,
}

impl Stopped {
    /// The source id of its `cleared` alert: the case, the clock and its run, so a second sweep
    /// cannot raise it twice.
    pub fn source(&self, case: &CaseId) -> String {
        format!("baton:{case}:{}:cleared:{}", self.clock, self.started_at.as_second())
    }
}

/// How many recent events a case keeps at hand when it is loaded without its history.
pub const RECENT: usize = 8;

/// The most events a case's timeline takes from signals: with them, its whole timeline still fits in
/// one DynamoDB transaction when it is rebuilt or erased. A signal past it goes to a continuation of
/// the case, which carries its state on (the alerts' own events may add a few past the bound).
pub const MAX_EVENTS: u64 = 2_000;

/// The most customer identities a case holds (a customer's addresses, X and Meta ids). A message
/// from one more opens a case of its own; linking one more is refused.
pub const MAX_IDENTITIES: usize = 20;

/// One line of the timeline, shared: a case's events are copied on every load and write of a store,
/// and a copy is a count, not a deep clone. A change writes through `DerefMut`, which copies only the
/// event it changes (`Arc::make_mut`). Stored and serialised as its [`EventData`].
///
/// What only readers of the whole timeline use (the message's excerpt and references, a case API
/// call's caller and fingerprint) is kept apart from the rest, so that the [bare](Event::bare) event
/// a case loaded without its history carries shares the rest instead of copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    head: Arc<EventHead>,
    detail: Option<Arc<Detail>>,
}

/// What every reader of an [`Event`] reads: its place, kind, owner and marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHead {
    pub at: Timestamp,
    /// The source id of the signal, or a derived id for engine events: shared with the signal and
    /// the store's dedupe entry.
    pub source: Arc<str>,
    pub kind: EventKind,
    /// The owning team after the event.
    pub owner: TeamId,
    pub marks: Marks,
}

/// What only readers of the whole timeline read (see [`EventData`] for each field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Detail {
    excerpt: Option<String>,
    refs: Vec<MessageRef>,
    by: Option<String>,
    request: Option<String>,
}

impl std::ops::Deref for Event {
    type Target = EventHead;
    fn deref(&self) -> &EventHead {
        &self.head
    }
}

impl std::ops::DerefMut for Event {
    fn deref_mut(&mut self) -> &mut EventHead {
        Arc::make_mut(&mut self.head)
    }
}

impl From<EventData> for Event {
    fn from(data: EventData) -> Self {
        let EventData { at, source, kind, owner, marks, excerpt, refs, by, request } = data;
        let detail = (excerpt.is_some() || !refs.is_empty() || by.is_some() || request.is_some())
            .then(|| Arc::new(Detail { excerpt, refs, by, request }));
        Self { head: Arc::new(EventHead { at, source, kind, owner, marks }), detail }
    }
}

impl From<&Event> for EventData {
    fn from(event: &Event) -> Self {
        let EventHead { at, source, kind, owner, marks } = EventHead::clone(&event.head);
        let Detail { excerpt, refs, by, request } = event.detail.as_deref().cloned().unwrap_or_default();
        EventData { at, source, kind, owner, marks, excerpt, refs, by, request }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Through `EventData`, so that the serde form has one definition (a copy per event: the
        // stores and views that serialise events are not where the replay spends its time).
        EventData::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        EventData::deserialize(deserializer).map(Event::from)
    }
}

/// What an [`Event`] holds, whole: how one is built, and its serde form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    pub at: Timestamp,
    /// The source id of the signal, or a derived id for engine events.
    pub source: Arc<str>,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The owning team after the event.
    pub owner: TeamId,
    #[serde(default, skip_serializing_if = "Marks::is_empty")]
    pub marks: Marks,
    /// The start of the message's text, as long as the policy's `data.excerpt_chars` allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The references of the message this event stands for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<MessageRef>,
    /// Who made the case API call this event stands for: the caller's IAM ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The fingerprint of the case API call made with an `Idempotency-Key` (route and body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl EventData {
    /// An event with no marks, excerpt, references, caller or fingerprint.
    pub fn new(at: Timestamp, source: impl Into<Arc<str>>, kind: EventKind, owner: TeamId) -> Self {
        Self {
            at,
            source: source.into(),
            kind,
            owner,
            marks: Marks::default(),
            excerpt: None,
            refs: Vec::new(),
            by: None,
            request: None,
        }
    }
}

/// A case: its state, clocks and timeline. Its fields change only through the engine. The DynamoDB
/// store keeps it as its own record and the case API shows it as its own view; this serde form is
/// only the state a continuation event carries ([`EventKind::Continues`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub(in crate::domain) id: CaseId,
    /// Bumped by every write; the store's optimistic lock.
    pub(in crate::domain) version: u64,
    pub(in crate::domain) state: CaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) close_reason: Option<CloseReason>,
    pub(in crate::domain) priority: Priority,
    /// The priority the case opened with (needed to rebuild it; a change is on the timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) first_priority: Option<Priority>,
    /// The team that owned the case when it opened (needed to rebuild it).
    pub(in crate::domain) first_owner: TeamId,
    pub(in crate::domain) owner: TeamId,
    pub(in crate::domain) owner_since: Timestamp,
    pub(in crate::domain) opened_at: Timestamp,
    // The collections are shared between copies of a case until one of them changes (`Arc::make_mut`
    // copies it then): the in-memory store keeps each case and hands out a copy on every load, and
    // copying them node by node on each load, clone and write was a twentieth of a replay. Their
    // serde form is the collection's own.
    pub(in crate::domain) channels: Arc<BTreeSet<Channel>>,
    pub(in crate::domain) identities: Arc<SortedSet<Identity>>,
    /// Time each team held the case before the current owner took it (calendar time).
    pub(in crate::domain) held: Arc<SortedMap<TeamId, SignedDuration>>,
    pub(in crate::domain) clocks: Arc<Clocks>,
    pub(in crate::domain) first_response_done: bool,
    /// The earliest customer message that has no answer yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) waiting_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) last_customer_channel: Option<Channel>,
    /// Whether the customer's last message was public (targets follow it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(in crate::domain) last_customer_public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) last_reply_at: Option<Timestamp>,
    pub(in crate::domain) follow_ups: u32,
    pub(in crate::domain) channel_hops: u32,
    pub(in crate::domain) public_posts: u32,
    /// Closures already warned about, by their start.
    #[serde(default, skip_serializing_if = "no_warnings")]
    pub(in crate::domain) closure_warnings: Arc<BTreeSet<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) merged_into: Option<CaseId>,
    /// The case this one went on in when it was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) continued_in: Option<CaseId>,
    /// The full case this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) continues: Option<CaseId>,
    /// Clocks that breached and stopped, whose `cleared` alert is still to be raised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(in crate::domain) cleared: Vec<Stopped>,
    /// The start of the business day of the case's last reminder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) reminded: Option<Timestamp>,
    /// When the engine next has something to do for this case (the due index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::domain) next_due: Option<Timestamp>,
    /// The timeline in order (see [`Event::order`]): all of it, or, for a case loaded without its
    /// history, the [`recent`](Case::recent) events, with `omitted` counting the others.
    pub(in crate::domain) timeline: Vec<Event>,
    /// How many events of the timeline were not loaded. Rules that need the past (placing a late
    /// event, merging) need the whole timeline: load it first.
    #[serde(skip)]
    pub(in crate::domain) omitted: u64,
    /// The version whose write replaced the whole stored timeline (an erasure), if any: the store
    /// ignores timeline items written before it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(in crate::domain) timeline_from: u64,
}

fn no_warnings(warnings: &Arc<BTreeSet<Timestamp>>) -> bool {
    warnings.is_empty()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A case field by field, as a store keeps it: [`Case::into_parts`] takes a case apart for writing,
/// [`Case::from_parts`] puts a stored case together again. Nothing else should build a case from
/// parts: a case changes only through the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseParts {
    pub id: CaseId,
    pub version: u64,
    pub state: CaseState,
    pub close_reason: Option<CloseReason>,
    pub priority: Priority,
    pub first_priority: Option<Priority>,
    pub first_owner: TeamId,
    pub owner: TeamId,
    pub owner_since: Timestamp,
    pub opened_at: Timestamp,
    pub channels: BTreeSet<Channel>,
    pub identities: BTreeSet<Identity>,
    pub held: BTreeMap<TeamId, SignedDuration>,
    pub clocks: BTreeMap<ClockKind, Clock>,
    pub first_response_done: bool,
    pub waiting_since: Option<Timestamp>,
    pub last_customer_channel: Option<Channel>,
    pub last_customer_public: bool,
    pub last_reply_at: Option<Timestamp>,
    pub follow_ups: u32,
    pub channel_hops: u32,
    pub public_posts: u32,
    pub closure_warnings: BTreeSet<Timestamp>,
    pub merged_into: Option<CaseId>,
    pub continued_in: Option<CaseId>,
    pub continues: Option<CaseId>,
    pub cleared: Vec<Stopped>,
    pub reminded: Option<Timestamp>,
    pub next_due: Option<Timestamp>,
    pub timeline: Vec<Event>,
    pub omitted: u64,
    pub timeline_from: u64,
}

impl Case {
    /// Takes the timeline out, leaving the case without one: for a store that rebuilds the case
    /// in its place from it.
    pub(crate) fn take_timeline(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.timeline)
    }

    pub fn into_parts(self) -> CaseParts {
        let Case {
            id,
            version,
            state,
            close_reason,
            priority,
            first_priority,
            first_owner,
            owner,
            owner_since,
            opened_at,
            channels,
            identities,
            held,
            clocks,
            first_response_done,
            waiting_since,
            last_customer_channel,
            last_customer_public,
            last_reply_at,
            follow_ups,
            channel_hops,
            public_posts,
            closure_warnings,
            merged_into,
            continued_in,
            continues,
            cleared,
            reminded,
            next_due,
            timeline,
            omitted,
            timeline_from,
        } = self;
        CaseParts {
            id,
            version,
            state,
            close_reason,
            priority,
            first_priority,
            first_owner,
            owner,
            owner_since,
            opened_at,
            channels: Arc::unwrap_or_clone(channels),
            identities: Arc::unwrap_or_clone(identities).into(),
            held: Arc::unwrap_or_clone(held).into(),
            clocks: Arc::unwrap_or_clone(clocks).into(),
            first_response_done,
            waiting_since,
            last_customer_channel,
            last_customer_public,
            last_reply_at,
            follow_ups,
            channel_hops,
            public_posts,
            closure_warnings: Arc::unwrap_or_clone(closure_warnings),
            merged_into,
            continued_in,
            continues,
            cleared,
            reminded,
            next_due,
            timeline,
            omitted,
            timeline_from,
        }
    }

    /// The case as written at store version `version` (the store's optimistic lock).
    pub fn with_version(mut self, version: u64) -> Case {
        self.version = version;
        self
    }

    /// The case whose whole stored timeline was replaced by the write at version `from`.
    pub fn with_timeline_from(mut self, from: u64) -> Case {
        self.timeline_from = from;
        self
    }

    /// A case loaded without its history: `omitted` events of its timeline were not read.
    pub fn with_omitted(mut self, omitted: u64) -> Case {
        self.omitted = omitted;
        self
    }

    /// A case loaded without its history, completed with its whole timeline.
    pub fn with_whole_timeline(mut self, timeline: Vec<Event>) -> Whole {
        self.timeline = timeline;
        self.omitted = 0;
        Whole(self)
    }

    /// The case a store kept, as it was kept (no rule is checked: it was checked when recorded).
    pub fn from_parts(parts: CaseParts) -> Case {
        let CaseParts {
            id,
            version,
            state,
            close_reason,
            priority,
            first_priority,
            first_owner,
            owner,
            owner_since,
            opened_at,
            channels,
            identities,
            held,
            clocks,
            first_response_done,
            waiting_since,
            last_customer_channel,
            last_customer_public,
            last_reply_at,
            follow_ups,
            channel_hops,
            public_posts,
            closure_warnings,
            merged_into,
            continued_in,
            continues,
            cleared,
            reminded,
            next_due,
            timeline,
            omitted,
            timeline_from,
        } = parts;
        Case {
            id,
            version,
            state,
            close_reason,
            priority,
            first_priority,
            first_owner,
            owner,
            owner_since,
            opened_at,
            channels: Arc::new(channels),
            identities: Arc::new(identities.into()),
            held: Arc::new(held.into()),
            clocks: Arc::new(clocks.into()),
            first_response_done,
            waiting_since,
            last_customer_channel,
            last_customer_public,
            last_reply_at,
            follow_ups,
            channel_hops,
            public_posts,
            closure_warnings: Arc::new(closure_warnings),
            merged_into,
            continued_in,
            continues,
            cleared,
            reminded,
            next_due,
            timeline,
            omitted,
            timeline_from,
        }
    }
}

/// A case loaded with its whole timeline: what placing a late event among the others, merging and
/// replacing the timeline need. Only [`Case::into_whole`] makes one, from a case that holds its
/// whole timeline, so a rule that needs the past takes a `Whole` and cannot be handed less.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whole(pub(in crate::domain) Case);

impl Whole {
    pub fn into_case(self) -> Case {
        self.0
    }

    /// See [`Case::anonymized`]: the whole case, anonymised, is whole.
    pub fn anonymized(&self) -> Whole {
        Whole(self.0.anonymized())
    }
}

impl std::ops::Deref for Whole {
    type Target = Case;
    fn deref(&self) -> &Case {
        &self.0
    }
}

impl PartialEq<Case> for Whole {
    fn eq(&self, other: &Case) -> bool {
        self.0 == *other
    }
}

impl Case {
    /// The case as a [`Whole`], if it holds its whole timeline; else the case back.
    #[expect(clippy::result_large_err, reason = "both sides hold the same case: boxing one saves nothing")]
    pub fn into_whole(self) -> Result<Whole, Case> {
        if self.is_whole() { Ok(Whole(self)) } else { Err(self) }
    }
}

/// Reading a case. Its fields change only through the engine ([`super::engine`]); everything
/// outside the domain reads them here.
impl Case {
    pub fn id(&self) -> &CaseId {
        &self.id
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn state(&self) -> CaseState {
        self.state
    }

    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    pub fn priority(&self) -> Priority {
        self.priority
    }

    pub fn first_priority(&self) -> Option<Priority> {
        self.first_priority
    }

    pub fn first_owner(&self) -> &TeamId {
        &self.first_owner
    }

    pub fn owner(&self) -> &TeamId {
        &self.owner
    }

    pub fn owner_since(&self) -> Timestamp {
        self.owner_since
    }

    pub fn opened_at(&self) -> Timestamp {
        self.opened_at
    }

    pub fn channels(&self) -> &BTreeSet<Channel> {
        &self.channels
    }

    pub fn identities(&self) -> &SortedSet<Identity> {
        &self.identities
    }

    pub fn held(&self) -> &SortedMap<TeamId, SignedDuration> {
        &self.held
    }

    pub fn clocks(&self) -> &Clocks {
        &self.clocks
    }

    pub fn first_response_done(&self) -> bool {
        self.first_response_done
    }

    pub fn waiting_since(&self) -> Option<Timestamp> {
        self.waiting_since
    }

    pub fn last_customer_channel(&self) -> Option<Channel> {
        self.last_customer_channel
    }

    pub fn last_customer_public(&self) -> bool {
        self.last_customer_public
    }

    pub fn last_reply_at(&self) -> Option<Timestamp> {
        self.last_reply_at
    }

    pub fn follow_ups(&self) -> u32 {
        self.follow_ups
    }

    pub fn channel_hops(&self) -> u32 {
        self.channel_hops
    }

    pub fn public_posts(&self) -> u32 {
        self.public_posts
    }

    pub fn closure_warnings(&self) -> &BTreeSet<Timestamp> {
        &self.closure_warnings
    }

    pub fn merged_into(&self) -> Option<&CaseId> {
        self.merged_into.as_ref()
    }

    pub fn continued_in(&self) -> Option<&CaseId> {
        self.continued_in.as_ref()
    }

    pub fn continues(&self) -> Option<&CaseId> {
        self.continues.as_ref()
    }

    pub fn cleared(&self) -> &[Stopped] {
        &self.cleared
    }

    pub fn reminded(&self) -> Option<Timestamp> {
        self.reminded
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        self.next_due
    }

    pub fn timeline(&self) -> &[Event] {
        &self.timeline
    }

    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    pub fn timeline_from(&self) -> u64 {
        self.timeline_from
    }
}

impl EventKind {
    /// The kind's name, as the `type` tag of its JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Signal { .. } => "signal",
            Self::Alerted { .. } => "alerted",
            Self::ClosureRisk { .. } => "closure_risk",
            Self::ConfirmationExpired => "confirmation_expired",
            Self::Absorbed { .. } => "absorbed",
            Self::MergedInto { .. } => "merged_into",
            Self::ContinuedIn { .. } => "continued_in",
            Self::Continues { .. } => "continues",
        }
    }
}

impl Event {
    /// The event's place in the timeline: by instant, then by source id and kind, so that every
    /// store and every rebuild puts events of the same instant in the same order. No two events of
    /// one case share all three.
    pub fn order(&self) -> (Timestamp, &str, &'static str) {
        // A continuation's state comes before everything it holds, a late signal included.
        let at = if matches!(self.kind, EventKind::Continues { .. }) { Timestamp::MIN } else { self.at };
        (at, &self.source, self.kind.name())
    }

    /// Where the event is held: two events at one address are one event, shared between the copies
    /// of a case that hold it (and so equal), which a caller can tell without reading either.
    pub fn address(&self) -> (usize, usize) {
        (Arc::as_ptr(&self.head) as usize, self.detail.as_ref().map_or(0, |d| Arc::as_ptr(d) as usize))
    }

    /// The event as a case loaded without its history carries it (the DynamoDB case item holds
    /// these, and a write pays for that item by the KB): its place, kind, owner and marks, which the
    /// engine's rules and the alerts' timelines read; not the message's excerpt and references, nor
    /// a case API call's caller and request fingerprint, which only readers of the whole timeline
    /// (the case API and page, erasure, deletion) use.
    pub fn bare(&self) -> Event {
        Event { head: self.head.clone(), detail: None }
    }

    /// The start of the message's text, as long as the policy's `data.excerpt_chars` allows.
    pub fn excerpt(&self) -> Option<&str> {
        self.detail.as_ref()?.excerpt.as_deref()
    }

    /// The references of the message this event stands for.
    pub fn refs(&self) -> &[MessageRef] {
        self.detail.as_ref().map_or(&[], |d| &d.refs)
    }

    /// Who made the case API call this event stands for: the caller's IAM ARN.
    pub fn by(&self) -> Option<&str> {
        self.detail.as_ref()?.by.as_deref()
    }

    /// The fingerprint of the case API call made with an `Idempotency-Key` (route and body).
    pub fn request(&self) -> Option<&str> {
        self.detail.as_ref()?.request.as_deref()
    }

    /// Whether alerts show this event in their timeline: signals and merges.
    pub fn is_shown(&self) -> bool {
        matches!(self.kind, EventKind::Signal { .. } | EventKind::Absorbed { .. })
    }
}

impl Case {
    /// An empty case owned by `owner` from `at`; its first event opens it.
    pub fn new(id: CaseId, owner: TeamId, priority: Priority, at: Timestamp) -> Self {
        Self {
            id,
            version: 0,
            state: CaseState::Open,
            close_reason: None,
            priority,
            first_priority: Some(priority),
            first_owner: owner.clone(),
            owner,
            owner_since: at,
            opened_at: at,
            channels: Arc::default(),
            identities: Arc::default(),
            held: Arc::default(),
            clocks: Arc::default(),
            first_response_done: false,
            waiting_since: None,
            last_customer_channel: None,
            last_customer_public: false,
            last_reply_at: None,
            follow_ups: 0,
            channel_hops: 0,
            public_posts: 0,
            closure_warnings: Arc::default(),
            merged_into: None,
            continued_in: None,
            continues: None,
            cleared: Vec::new(),
            reminded: None,
            next_due: None,
            timeline: Vec::new(),
            omitted: 0,
            timeline_from: 0,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.state == CaseState::Closed
    }

    pub fn clock(&self, kind: ClockKind) -> Option<&Clock> {
        self.clocks.get(&kind)
    }

    /// How many events the timeline holds, loaded or not.
    pub fn event_count(&self) -> u64 {
        self.omitted + self.timeline.len() as u64
    }

    /// Whether the whole timeline is loaded.
    pub fn is_whole(&self) -> bool {
        self.omitted == 0
    }

    /// The events a case needs from its past when it is loaded without its history, in order and
    /// [bare](Event::bare): the last [`RECENT`] that alerts show (signals and merges), and the last
    /// event, whose place tells whether a new event is late (and needs the whole timeline). Nothing
    /// else: the DynamoDB store carries these in the case item, which a write pays for by the KB,
    /// and the in-memory store loads the same, so a rule that reads more fails on both.
    pub fn recent(&self) -> Vec<Event> {
        // From the end: the last event always, then back until RECENT shown ones are in.
        let mut keep = Vec::with_capacity(RECENT + 1);
        let mut shown = 0;
        for (i, event) in self.timeline.iter().rev().enumerate() {
            if event.is_shown() && shown < RECENT {
                shown += 1;
                keep.push(event.bare());
            } else if i == 0 {
                keep.push(event.bare());
            }
            if shown == RECENT {
                break;
            }
        }
        keep.reverse();
        keep
    }

    /// This case as it is loaded without its history: the [`recent`](Case::recent) events only.
    pub fn without_history(&self) -> Case {
        let recent = self.recent();
        let omitted = self.event_count() - recent.len() as u64;
        self.with_timeline(recent, omitted)
    }

    /// A copy of this case holding `timeline`, with `omitted` events left out, without cloning the
    /// timeline it replaces (the in-memory store does this on every load and write).
    pub fn with_timeline(&self, timeline: Vec<Event>, omitted: u64) -> Case {
        // Every field is named, so that a new one cannot be forgotten here.
        let Case {
            id,
            version,
            state,
            close_reason,
            priority,
            first_priority,
            first_owner,
            owner,
            owner_since,
            opened_at,
            channels,
            identities,
            held,
            clocks,
            first_response_done,
            waiting_since,
            last_customer_channel,
            last_customer_public,
            last_reply_at,
            follow_ups,
            channel_hops,
            public_posts,
            closure_warnings,
            merged_into,
            continued_in,
            continues,
            cleared,
            reminded,
            next_due,
            timeline: _,
            omitted: _,
            timeline_from,
        } = self;
        Case {
            id: id.clone(),
            version: *version,
            state: *state,
            close_reason: *close_reason,
            priority: *priority,
            first_priority: *first_priority,
            first_owner: first_owner.clone(),
            owner: owner.clone(),
            owner_since: *owner_since,
            opened_at: *opened_at,
            channels: channels.clone(),
            identities: identities.clone(),
            held: held.clone(),
            clocks: clocks.clone(),
            first_response_done: *first_response_done,
            waiting_since: *waiting_since,
            last_customer_channel: *last_customer_channel,
            last_customer_public: *last_customer_public,
            last_reply_at: *last_reply_at,
            follow_ups: *follow_ups,
            channel_hops: *channel_hops,
            public_posts: *public_posts,
            closure_warnings: closure_warnings.clone(),
            merged_into: merged_into.clone(),
            continued_in: continued_in.clone(),
            continues: continues.clone(),
            cleared: cleared.clone(),
            reminded: *reminded,
            next_due: *next_due,
            timeline,
            omitted,
            timeline_from: *timeline_from,
        }
    }

    /// This case with nothing left that names the customer (`DELETE /customers/{identity}`): its
    /// identities, excerpts, message references and the source ids of its signals (which are
    /// platform message ids) go; owners, states, clocks and every instant stay, for the statistics.
    pub fn anonymized(&self) -> Case {
        let mut signals = 0;
        let timeline = self
            .timeline
            .iter()
            .map(|e| {
                let mut e = EventData { excerpt: None, refs: Vec::new(), request: None, ..EventData::from(e) };
                if let EventKind::Continues { state, .. } = &mut e.kind {
                    **state = state.anonymized();
                }
                if let EventKind::Signal { signal } = &mut e.kind {
                    e.source = format!("erased:{signals:06}").into();
                    signals += 1;
                    match signal {
                        SignalKind::CustomerMessage { identity, .. } | SignalKind::Link { identity } => {
                            *identity = Identity::Erased;
                        }
                        _ => {}
                    }
                }
                Event::from(e)
            })
            .collect();
        Case { identities: Arc::default(), ..self.with_timeline(timeline, self.omitted) }
    }

    /// The case without the excerpt of the message `reference` (a deleted tweet), or `None` when no
    /// event of the loaded timeline holds one. Everything else, the timing above all, stays.
    pub fn without_excerpt_of(&self, reference: &MessageRef) -> Option<Case> {
        let holds = |e: &Event| e.excerpt().is_some() && e.refs().contains(reference);
        if !self.timeline.iter().any(holds) {
            return None;
        }
        let timeline = self
            .timeline
            .iter()
            .map(|e| if holds(e) { Event::from(EventData { excerpt: None, ..EventData::from(e) }) } else { e.clone() })
            .collect();
        Some(self.with_timeline(timeline, self.omitted))
    }

    /// Every message reference the loaded timeline holds.
    pub fn refs(&self) -> BTreeSet<MessageRef> {
        self.timeline.iter().flat_map(|e| e.refs().iter().cloned()).collect()
    }

    /// Time held per team up to `now` (or up to the closing, for a closed case).
    pub fn time_held(&self, now: Timestamp) -> BTreeMap<TeamId, SignedDuration> {
        let mut held: BTreeMap<TeamId, SignedDuration> = self.held.iter().map(|(team, d)| (team.clone(), *d)).collect();
        if !self.is_closed() && now > self.owner_since {
            *held.entry(self.owner.clone()).or_default() += now.duration_since(self.owner_since);
        }
        held
    }

    /// Applies one timeline event. This cannot fail: the engine has already decided the event is
    /// allowed, and a rebuild replays events that were allowed when they happened.
    pub(super) fn record(&mut self, mut event: Event, policy: &Policy) {
        let at = event.at;
        match &event.kind {
            EventKind::Signal { .. } => {
                // The marks are set here: the one event written to (copied only if shared).
                let data: &mut EventHead = &mut event;
                let EventKind::Signal { signal } = &data.kind else { unreachable!("matched above") };
                self.on_signal(signal, at, &mut data.marks, policy);
            }
            EventKind::Alerted { alert: AlertKind::Cleared, .. } => {
                let id = &self.id;
                self.cleared.retain(|s| *s.source(id) != *event.source);
            }
            EventKind::Alerted { alert, clock, step, .. } => {
                if let Some(c) = Arc::make_mut(&mut self.clocks).get_mut(clock) {
                    c.mark_fired(*step);
                }
                if *alert == AlertKind::Reminder {
                    self.reminded = Some(at);
                }
            }
            EventKind::ClosureRisk { closure_starts, .. } => {
                Arc::make_mut(&mut self.closure_warnings).insert(*closure_starts);
            }
            EventKind::ConfirmationExpired => self.close(at, CloseReason::Unconfirmed),
            EventKind::Absorbed { .. } => {}
            EventKind::MergedInto { case } => {
                self.merged_into = Some(case.clone());
                self.close(at, CloseReason::Merged);
            }
            EventKind::ContinuedIn { case } => {
                // The continuation carries the clocks on (closing clears them here), and the
                // `cleared` alerts still due: this case raises nothing more, and is deleted after
                // the retention like any closed case.
                self.continued_in = Some(case.clone());
                self.close(at, CloseReason::Continued);
                self.cleared.clear();
            }
            EventKind::Continues { case, state } => {
                let timeline = std::mem::take(&mut self.timeline);
                let restored = Case {
                    id: self.id.clone(),
                    version: self.version,
                    timeline_from: self.timeline_from,
                    continues: Some(case.clone()),
                    continued_in: None,
                    merged_into: None,
                    ..state.with_timeline(timeline, self.omitted)
                };
                *self = restored;
            }
        }
        event.owner = self.owner.clone();
        self.timeline.push(event);
    }

    fn on_signal(&mut self, signal: &SignalKind, at: Timestamp, marks: &mut Marks, policy: &Policy) {
        match signal {
            SignalKind::CustomerMessage { channel, public, identity } => {
                self.on_customer_message(*channel, *public, at, marks, policy);
                if *identity != Identity::Erased {
                    Arc::make_mut(&mut self.identities).insert(identity.clone());
                }
            }
            SignalKind::AgentReply { channel, team, awaiting_customer } => {
                Arc::make_mut(&mut self.channels).insert(*channel);
                self.on_reply(team.as_ref(), at, policy);
                if *awaiting_customer && self.state == CaseState::Open {
                    self.state = CaseState::AwaitingCustomer;
                    let why = Stop::Replied { by: team.clone() };
                    self.stop(&[ClockKind::CustomerSilence, ClockKind::PeriodicUpdate], at, &why);
                }
            }
            SignalKind::InternalNote { .. } => {}
            SignalKind::Handoff { to } => self.on_handoff(to, at, policy),
            SignalKind::Accept { team } => {
                self.stop_handoff_by(team, at, &Stop::Accepted { by: team.clone() });
            }
            SignalKind::ResolutionProposed => {
                let owner = self.owner.clone();
                self.on_reply(Some(&owner), at, policy);
                self.stop(
                    &[ClockKind::PeriodicUpdate, ClockKind::CustomerSilence, ClockKind::HandoffAccept],
                    at,
                    &Stop::ResolutionProposed,
                );
                self.state = CaseState::ResolutionProposed;
                self.start(ClockKind::ResolutionConfirm, at, self.class(), policy);
            }
            SignalKind::CustomerConfirmation => self.close(at, CloseReason::Confirmed),
            SignalKind::CustomerRejection => {
                marks.reopened = self.is_closed();
                let channel = self.last_customer_channel.unwrap_or(Channel::Email);
                self.reopen_for_customer(at, marks.reopened);
                self.stop(&[ClockKind::ResolutionConfirm], at, &Stop::CustomerWrote);
                self.respond_within(ChannelClass::of(channel, false), at, policy);
            }
            SignalKind::Link { identity } => {
                if *identity != Identity::Erased {
                    Arc::make_mut(&mut self.identities).insert(identity.clone());
                }
            }
            SignalKind::Acknowledge { clock, level, snooze, .. } => {
                if let Some(c) = Arc::make_mut(&mut self.clocks).get_mut(clock) {
                    let until = policy.calendar(&c.team).after(at, *snooze);
                    c.snooze = Some(Snooze { level: *level, until });
                }
            }
            SignalKind::SurveyRequested { .. } => {
                marks.premature_survey = self.close_reason != Some(CloseReason::Confirmed);
            }
            SignalKind::PriorityChange { priority } => self.change_priority(*priority, at, policy),
        }
    }

    /// Every running clock takes the new priority's target from `at` on, with the time it used.
    fn change_priority(&mut self, priority: Priority, at: Timestamp, policy: &Policy) {
        self.priority = priority;
        let class = self.class();
        for clock in Arc::make_mut(&mut self.clocks).values_mut() {
            let target = policy.target(clock.kind, class, priority);
            clock.retarget(at, target, policy);
        }
    }

    fn on_customer_message(
        &mut self,
        channel: Channel,
        public: bool,
        at: Timestamp,
        marks: &mut Marks,
        policy: &Policy,
    ) {
        let responding =
            self.clocks.contains_key(&ClockKind::FirstResponse) || self.clocks.contains_key(&ClockKind::NextResponse);
        let wrote_before = self.last_customer_channel.is_some();
        marks.public = public;
        marks.follow_up = wrote_before && !self.is_closed() && (responding || self.state == CaseState::HandedOff);
        marks.channel_hop = self.last_customer_channel.filter(|last| *last != channel && !self.is_closed());
        marks.reopened = self.is_closed();
        self.follow_ups += u32::from(marks.follow_up);
        self.channel_hops += u32::from(marks.channel_hop.is_some());
        self.public_posts += u32::from(public);
        Arc::make_mut(&mut self.channels).insert(channel);
        self.last_customer_channel = Some(channel);
        self.last_customer_public = public;

        self.reopen_for_customer(at, marks.reopened);
        self.stop(&[ClockKind::ResolutionConfirm], at, &Stop::CustomerWrote);
        self.respond_within(ChannelClass::of(channel, public), at, policy);
    }

    /// The ball is back with the organisation: a closed, resolved or waiting case becomes open.
    fn reopen_for_customer(&mut self, at: Timestamp, reopened: bool) {
        if reopened {
            self.close_reason = None;
            self.owner_since = at;
        }
        if !self.state.is_ours() {
            self.state = CaseState::Open;
        }
    }

    /// Starts (or tightens) the response clock for a customer message, and the silence clock.
    fn respond_within(&mut self, class: ChannelClass, at: Timestamp, policy: &Policy) {
        let kind = if self.first_response_done { ClockKind::NextResponse } else { ClockKind::FirstResponse };
        let target = policy.target(kind, class, self.priority);
        match self.clocks.get(&kind) {
            None => self.start(kind, at, class, policy),
            Some(running) => {
                // A more urgent message (a public post after an email) tightens the running clock.
                let candidate = Clock::start(kind, at, self.owner.clone(), target, policy);
                if candidate.due_at < running.due_at {
                    let fired = running.fired;
                    let mut tightened = candidate;
                    tightened.fired = fired.filter(|s| s.level() > 0);
                    Arc::make_mut(&mut self.clocks).insert(kind, tightened);
                }
            }
        }
        self.waiting_since.get_or_insert(at);
        // While an answer is due, that clock covers the customer; periodic updates wait.
        self.stop(&[ClockKind::PeriodicUpdate], at, &Stop::CustomerWrote);
        if !self.clocks.contains_key(&ClockKind::CustomerSilence) {
            self.start(ClockKind::CustomerSilence, at, class, policy);
        }
    }

    fn on_reply(&mut self, team: Option<&TeamId>, at: Timestamp, policy: &Policy) {
        self.last_reply_at = Some(at);
        if self.is_closed() {
            return;
        }
        self.first_response_done = true;
        self.waiting_since = None;
        let why = Stop::Replied { by: team.cloned() };
        // A breach that waited for an answer (periodic updates while the customer wrote) is cleared.
        for waiting in self.cleared.iter_mut().filter(|s| s.at.is_none()) {
            waiting.at = Some(at);
            waiting.why = why.clone();
        }
        self.stop(&[ClockKind::FirstResponse, ClockKind::NextResponse], at, &why);
        if let Some(team) = team {
            self.stop_handoff_by(team, at, &why);
        }
        if self.state.is_ours() {
            // The customer just heard from us: silence and periodic updates count from now.
            let class = self.class();
            self.stop(&[ClockKind::CustomerSilence, ClockKind::PeriodicUpdate], at, &why);
            self.start(ClockKind::CustomerSilence, at, class, policy);
            self.start(ClockKind::PeriodicUpdate, at, class, policy);
        }
    }

    fn on_handoff(&mut self, to: &TeamId, at: Timestamp, policy: &Policy) {
        if at > self.owner_since {
            *Arc::make_mut(&mut self.held).entry_or_default(self.owner.clone()) += at.duration_since(self.owner_since);
        }
        self.owner = to.clone();
        self.owner_since = at;
        if self.state != CaseState::Closed {
            self.state = CaseState::HandedOff;
        }
        self.stop(&[ClockKind::HandoffAccept, ClockKind::ResolutionConfirm], at, &Stop::HandedOn { to: to.clone() });
        for kind in
            [ClockKind::FirstResponse, ClockKind::NextResponse, ClockKind::PeriodicUpdate, ClockKind::CustomerSilence]
        {
            if let Some(clock) = Arc::make_mut(&mut self.clocks).get_mut(&kind) {
                clock.rebase(at, to.clone(), policy);
            }
        }
        let class = self.class();
        self.start(ClockKind::HandoffAccept, at, class, policy);
        if !self.clocks.contains_key(&ClockKind::CustomerSilence) {
            self.start(ClockKind::CustomerSilence, at, class, policy);
        }
    }

    /// The receiving team took the case up (by accepting or by replying).
    fn stop_handoff_by(&mut self, team: &TeamId, at: Timestamp, why: &Stop) {
        if self.clocks.get(&ClockKind::HandoffAccept).is_some_and(|c| c.team == *team) {
            self.stop(&[ClockKind::HandoffAccept], at, why);
        }
        if self.state == CaseState::HandedOff && self.owner == *team {
            self.state = CaseState::Open;
        }
    }

    fn close(&mut self, at: Timestamp, reason: CloseReason) {
        if !self.is_closed() && at > self.owner_since {
            *Arc::make_mut(&mut self.held).entry_or_default(self.owner.clone()) += at.duration_since(self.owner_since);
            self.owner_since = at;
        }
        self.state = CaseState::Closed;
        self.close_reason = Some(reason);
        let why = Stop::Closed { reason };
        for waiting in self.cleared.iter_mut().filter(|s| s.at.is_none()) {
            waiting.at = Some(at);
            waiting.why = why.clone();
        }
        let kinds: Vec<ClockKind> = self.clocks.keys().copied().collect();
        self.stop(&kinds, at, &why);
        self.waiting_since = None;
    }

    fn start(&mut self, kind: ClockKind, at: Timestamp, class: ChannelClass, policy: &Policy) {
        let target = policy.target(kind, class, self.priority);
        Arc::make_mut(&mut self.clocks).insert(kind, Clock::start(kind, at, self.owner.clone(), target, policy));
    }

    /// Stops clocks at `at`: each that breached leaves its `cleared` alert due (see [`Stopped`]).
    fn stop(&mut self, kinds: &[ClockKind], at: Timestamp, why: &Stop) {
        for kind in kinds {
            let Some(clock) = Arc::make_mut(&mut self.clocks).remove(kind) else { continue };
            // The confirmation window has no ladder; a full case's clocks go on in its continuation.
            let carried_on = matches!(why, Stop::Closed { reason: CloseReason::Continued });
            let Some(reached) = clock.fired.filter(|s| s.level() >= 1) else { continue };
            if clock.kind == ClockKind::ResolutionConfirm || carried_on {
                continue;
            }
            let when = if *why == Stop::CustomerWrote { None } else { Some(at) };
            let stopped = Stopped {
                clock: clock.kind,
                started_at: clock.started_at,
                due_at: clock.due_at,
                reached,
                at: when,
                why: why.clone(),
            };
            // A rebuild may have placed the alert before the signal that stopped the clock (both at
            // the same instant, ordered by source id): it is raised already.
            let source = stopped.source(&self.id);
            if self.timeline.iter().rev().take_while(|e| e.at >= at).any(|e| *e.source == *source) {
                continue;
            }
            self.cleared.push(stopped);
        }
    }

    /// The channel class targets are taken from: that of the customer's last message.
    fn class(&self) -> ChannelClass {
        ChannelClass::of(self.last_customer_channel.unwrap_or(Channel::Email), self.last_customer_public)
    }
}
