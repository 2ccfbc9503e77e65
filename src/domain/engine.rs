//! The engine: the rules. Pure functions over a case, a signal or an instant, and the policy.
//!
//! - [`open`] makes a new case from a customer's first message;
//! - [`apply`] decides whether a signal is allowed and records it (a late signal is placed at its own
//!   time and the case rebuilt, so clocks come out as if it had arrived in order);
//! - [`evaluate`] says what is due at `now`: ladder alerts, the case's reminder, `cleared` alerts, a
//!   closure risk, an expired confirmation window; the caller records those events with [`commit`]
//!   and publishes the alerts;
//! - [`next_due`] says when to call [`evaluate`] again.
//!
//! Nothing here reads a clock or does I/O (like quinn-proto's `poll_timeout`).

use jiff::Timestamp;

use super::case::{Case, CaseState, Event, EventData, EventKind, MAX_EVENTS, MAX_IDENTITIES, Marks, Stopped, Whole};
use super::clock::{AlertKind, Clock, ClockKind, ClockLevel, Step};
use super::ids::{CaseId, Channel, Identity, Priority, TeamId};
use super::policy::Policy;
use super::signal::{Signal, SignalKind};

/// Why a signal cannot be applied. Each variant says what the caller should answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// 409: the case is closed and the signal needs an open one.
    #[error("case {0} is closed")]
    Closed(CaseId),
    /// Redirect: the case was merged; apply the signal to the case named here.
    #[error("case {0} was merged into {1}")]
    Merged(CaseId, CaseId),
    /// 400: the policy has no such team.
    #[error("no team named `{0}` in the policy")]
    UnknownTeam(TeamId),
    /// 409: handing a case to the team that owns it.
    #[error("`{0}` already owns the case")]
    AlreadyOwner(TeamId),
    /// 409: accepting a case that was not handed to that team.
    #[error("the case is not waiting for `{0}` to accept it")]
    NotHandedTo(TeamId),
    /// 409: acknowledging a clock that is not running.
    #[error("clock {0} is not running")]
    ClockNotRunning(ClockKind),
    /// 409: a resolution is already proposed and awaits the customer.
    #[error("a resolution is already proposed")]
    AlreadyProposed,
    /// 409: the case already has that priority.
    #[error("the case's priority is already {}", .0.as_str())]
    AlreadyPriority(Priority),
    /// 400: only a customer's message can open a case.
    #[error("only a customer's message can open a case, not a {0}")]
    NotAnOpening(&'static str),
    /// 409: merging would make a case of more than [`MAX_EVENTS`] events.
    #[error("case {0} and the case it would absorb hold more than {MAX_EVENTS} events together")]
    TooLargeToMerge(CaseId),
    /// Not an answer to anyone: the case was loaded without its history and the signal belongs
    /// before its last event. The caller loads the case whole and applies the signal again.
    #[error("case {0} must be loaded with its whole timeline for this signal")]
    NeedsHistory(CaseId),
    /// 409: the case holds [`MAX_IDENTITIES`] identities already.
    #[error("case {0} holds {MAX_IDENTITIES} identities, the most a case may hold")]
    TooManyIdentities(CaseId),
}

/// Whether a case takes one more customer identity (it holds it already, or fewer than
/// [`MAX_IDENTITIES`]). A message from an identity it does not take opens a case of its own.
pub fn takes_identity(case: &Case, identity: &Identity) -> bool {
    case.identities.contains(identity) || case.identities.len() < MAX_IDENTITIES
}

/// Whether `into` may absorb `from` (a link of the same customer): the merged case must stay
/// within [`MAX_IDENTITIES`] and [`MAX_EVENTS`].
pub fn check_merge(into: &Case, from: &Case) -> Result<(), Rejection> {
    let merged = into.identities.len() + from.identities.iter().filter(|i| !into.identities.contains(i)).count();
    if merged > MAX_IDENTITIES {
        return Err(Rejection::TooManyIdentities(into.id.clone()));
    }
    if into.event_count() + from.event_count() > MAX_EVENTS {
        return Err(Rejection::TooLargeToMerge(into.id.clone()));
    }
    Ok(())
}

/// Whether a case is full: a signal goes to its [`continuation`] instead.
pub fn is_full(case: &Case) -> bool {
    case.event_count() >= MAX_EVENTS
}

/// Continues a full case (see [`MAX_EVENTS`]) in a new case `id` at `at` (or at the full case's
/// last event, if that is later): the event that closes `full` as continued, and the continuation,
/// whose first event holds `full`'s state, so that it goes on (clocks, ladder steps, owner, time
/// held) as if nothing happened, and a rebuild of it starts from there.
pub fn continuation(full: &Case, id: CaseId, at: Timestamp, policy: &Policy) -> (Event, Case) {
    let at = full.timeline.last().map_or(at, |last| last.at.max(at));
    let source = derived(full, "continued", at);
    let closing = event(at, source.clone(), EventKind::ContinuedIn { case: id.clone() }, &full.owner);
    let state = Box::new(full.with_timeline(Vec::new(), 0));
    let mut next = Case::new(id, full.first_owner.clone(), full.priority, full.opened_at);
    record(&mut next, event(at, source, EventKind::Continues { case: full.id.clone(), state }, &full.owner), policy);
    (closing, next)
}

/// Opens a case with the customer's first message, owned by `owner`, at the priority the policy
/// gives that customer (`[customers]`), else the default one.
pub fn open(id: CaseId, owner: TeamId, signal: Signal, policy: &Policy) -> Result<Case, Rejection> {
    let SignalKind::CustomerMessage { identity, .. } = &signal.kind else {
        return Err(Rejection::NotAnOpening(signal.kind.name()));
    };
    if policy.team(&owner).is_none() {
        return Err(Rejection::UnknownTeam(owner));
    }
    let priority = policy.customer_priority(identity).unwrap_or(policy.default_priority);
    let mut case = Case::new(id, owner, priority, signal.at);
    let event = signal_event(&case, signal);
    record(&mut case, event, policy);
    Ok(case)
}

/// Applies a signal to a case. A signal that belongs before the last event of a case loaded
/// without its history is [`Rejection::NeedsHistory`], and the case is left as it was: load it
/// whole and apply the signal again.
pub fn apply(case: &mut Case, signal: Signal, policy: &Policy) -> Result<(), Rejection> {
    check(case, &signal.kind, policy)?;
    let new = signal_event(case, signal);
    commit(case, vec![new], policy).map_err(|NeedsHistory| Rejection::NeedsHistory(case.id.clone()))
}

/// [`apply`] on a whole case, which can always place a late signal.
pub fn apply_whole(case: &mut Whole, signal: Signal, policy: &Policy) -> Result<(), Rejection> {
    check(case, &signal.kind, policy)?;
    let new = signal_event(case, signal);
    commit_whole(case, vec![new], policy);
    Ok(())
}

fn signal_event(case: &Case, signal: Signal) -> Event {
    let kind = EventKind::Signal { signal: signal.kind };
    Event::from(EventData {
        excerpt: signal.excerpt,
        refs: signal.refs,
        by: signal.by,
        request: signal.request,
        ..EventData::new(signal.at, signal.source, kind, case.owner.clone())
    })
}

fn check(case: &Case, signal: &SignalKind, policy: &Policy) -> Result<(), Rejection> {
    if let Some(into) = &case.merged_into {
        return Err(Rejection::Merged(case.id.clone(), into.clone()));
    }
    let closed = case.is_closed();
    match signal {
        SignalKind::Link { identity } if !takes_identity(case, identity) => {
            Err(Rejection::TooManyIdentities(case.id.clone()))
        }
        SignalKind::CustomerMessage { .. }
        | SignalKind::CustomerRejection
        | SignalKind::Link { .. }
        | SignalKind::InternalNote { .. }
        | SignalKind::AgentReply { .. }
        | SignalKind::SurveyRequested { .. } => Ok(()),
        _ if closed => Err(Rejection::Closed(case.id.clone())),
        SignalKind::Handoff { to } => {
            if policy.team(to).is_none() {
                Err(Rejection::UnknownTeam(to.clone()))
            } else if case.owner == *to {
                Err(Rejection::AlreadyOwner(to.clone()))
            } else {
                Ok(())
            }
        }
        SignalKind::Accept { team } => {
            if policy.team(team).is_none() {
                Err(Rejection::UnknownTeam(team.clone()))
            } else if case.state != CaseState::HandedOff || case.owner != *team {
                Err(Rejection::NotHandedTo(team.clone()))
            } else {
                Ok(())
            }
        }
        SignalKind::Acknowledge { clock, .. } if !case.clocks.contains_key(clock) => {
            Err(Rejection::ClockNotRunning(*clock))
        }
        SignalKind::ResolutionProposed if case.state == CaseState::ResolutionProposed => {
            Err(Rejection::AlreadyProposed)
        }
        SignalKind::PriorityChange { priority } if case.priority == *priority => {
            Err(Rejection::AlreadyPriority(*priority))
        }
        _ => Ok(()),
    }
}

/// Whether recording these events needs the case's whole timeline: one of them belongs before the
/// last event, so the case is rebuilt. Load the history first when it is not loaded.
pub fn needs_history(case: &Case, events: &[Event]) -> bool {
    let mut last = case.timeline.last().map(Event::order);
    !case.is_whole()
        && events.iter().any(|e| {
            let late = last.is_some_and(|l| e.order() < l);
            last = last.max(Some(e.order()));
            late
        })
}

fn is_late(case: &Case, new: &Event) -> bool {
    case.timeline.last().is_some_and(|last| new.order() < last.order())
}

/// Recording these events needs the case's whole timeline: one of them belongs before the last
/// event of a case loaded without its history. Nothing was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a late event needs the case's whole timeline")]
pub struct NeedsHistory;

/// Records events on a case: appended when they come last, else the case is rebuilt with them in
/// their place, which a case loaded without its history cannot be ([`NeedsHistory`], and nothing
/// recorded: load it whole and use [`commit_whole`]).
pub fn commit(case: &mut Case, events: Vec<Event>, policy: &Policy) -> Result<(), NeedsHistory> {
    if needs_history(case, &events) {
        return Err(NeedsHistory);
    }
    place(case, events, policy);
    Ok(())
}

/// [`commit`] on a whole case, which can always place a late event.
pub fn commit_whole(case: &mut Whole, events: Vec<Event>, policy: &Policy) {
    place(&mut case.0, events, policy);
}

/// Records events, rebuilding the case for a late one (the caller made sure the case is whole then).
fn place(case: &mut Case, events: Vec<Event>, policy: &Policy) {
    for new in events {
        if is_late(case, &new) {
            let since = new.at;
            let learned = case.timeline.last().map_or(new.at, |last| last.at);
            let mut all = std::mem::take(&mut case.timeline);
            all.push(new);
            let rebuilt = rebuild(case, all, policy);
            *case = keep_new_cleared(case, rebuilt, since, learned, policy);
        } else {
            record(case, new, policy);
        }
    }
}

/// A rebuilt case with only the `cleared` alerts that were due before, or that the events from
/// `since` on made due: a clock that breached and stopped long ago, in a case stored before `cleared`
/// alerts existed, is not announced by a rebuild. A stop the rebuild brought to light (a merged
/// case's reply, a late signal) is raised when it was `learned`, not before: an alert is never
/// raised in the past.
fn keep_new_cleared(before: &Case, mut rebuilt: Case, since: Timestamp, learned: Timestamp, policy: &Policy) -> Case {
    let was_due = |s: &Stopped| before.cleared.iter().any(|b| (b.clock, b.started_at) == (s.clock, s.started_at));
    let mut fresh = Vec::new();
    for mut stopped in std::mem::take(&mut rebuilt.cleared) {
        if was_due(&stopped) {
            fresh.push(stopped);
        } else if stopped.at.is_none_or(|at| at >= since) {
            stopped.at = stopped.at.map(|at| at.max(learned));
            fresh.push(stopped);
        }
    }
    rebuilt.cleared = fresh;
    rebuilt.next_due = next_due_of(&rebuilt, policy);
    rebuilt
}

/// Builds a case anew from its events, in timeline order.
pub fn rebuild(case: &Case, mut events: Vec<Event>, policy: &Policy) -> Case {
    events.sort_by(|a, b| a.order().cmp(&b.order()));
    let start = events.first().map_or(case.opened_at, |e| e.at.min(case.opened_at));
    let priority = case.first_priority.unwrap_or(case.priority);
    let mut fresh = Case::new(case.id.clone(), case.first_owner.clone(), priority, start);
    fresh.version = case.version;
    for mut e in events {
        e.marks = Marks::default();
        record(&mut fresh, e, policy);
    }
    fresh
}

/// Folds a whole case's events from its start as [`rebuild`] does, calling `each` with the state
/// before each event (`None` for the first), the state after it, and the event's instant: what
/// [`measure::history`](super::measure::history) reads a case's life from.
pub fn refold(case: &Whole, policy: &Policy, mut each: impl FnMut(Option<&Case>, &Case, Timestamp)) {
    let events = &case.0.timeline;
    let start = events.first().map_or(case.opened_at, |e| e.at.min(case.opened_at));
    let priority = case.first_priority.unwrap_or(case.priority);
    let mut fresh = Case::new(case.id.clone(), case.first_owner.clone(), priority, start);
    let mut first = true;
    for e in events {
        let before = (!first).then(|| fresh.with_timeline(Vec::new(), 0));
        let mut e = e.clone();
        e.marks = Marks::default();
        let at = e.at;
        record(&mut fresh, e, policy);
        each(before.as_ref(), &fresh, at);
        first = false;
    }
}

/// Merges `from` (another case of the same customer) into `into`: its signals join `into`'s timeline
/// at their own times, and `from` is closed as merged. Alerts raised for `from` stay on `from`.
pub fn merge(into: &mut Whole, from: &mut Whole, at: Timestamp, source: &str, policy: &Policy) {
    let (into, from) = (&mut into.0, &mut from.0);
    let mut events = std::mem::take(&mut into.timeline);
    let absorbed: Vec<Event> =
        from.timeline.iter().filter(|e| matches!(e.kind, EventKind::Signal { .. })).cloned().collect();
    let since = absorbed.iter().map(|e| e.at).min().unwrap_or(at).min(at);
    events.extend(absorbed);
    events.push(event(at, source.to_string(), EventKind::Absorbed { case: from.id.clone() }, &into.owner));
    let rebuilt = rebuild(into, events, policy);
    *into = keep_new_cleared(into, rebuilt, since, at, policy);
    let merged = event(at, source.to_string(), EventKind::MergedInto { case: into.id.clone() }, &from.owner);
    record(from, merged, policy);
}

/// What is due for a case at `now`, as the sweep acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet: the case was swept early, or by a second run.
    Nothing,
    /// Events to record with [`commit`]: ladder alerts, a closure risk, an expired confirmation
    /// window. The alerts among them are published once recorded.
    Events(Vec<Event>),
    /// The case is closed and its retention is over: delete it.
    Purge,
}

/// What is due for a case at `now`: the events [`evaluate`] finds, or for a closed case whether its
/// retention is over (closing made [`next_due`] the end of its retention).
pub fn due(case: &Case, now: Timestamp, policy: &Policy) -> Due {
    let events = evaluate(case, now, policy);
    if case.is_closed() && events.is_empty() {
        let retained = case.cleared.is_empty() && case.next_due.is_some_and(|end| end <= now);
        return if retained { Due::Purge } else { Due::Nothing };
    }
    if events.is_empty() { Due::Nothing } else { Due::Events(events) }
}

/// What is due for a case at `now`: alerts, a closure risk, an expired confirmation window. Record
/// them with [`commit`], then publish the alerts. A closed case may still have `cleared` alerts due
/// (the clocks its closing stopped).
pub fn evaluate(case: &Case, now: Timestamp, policy: &Policy) -> Vec<Event> {
    let mut due = cleared(case, now);
    if case.is_closed() {
        return due;
    }
    if let Some(window) = case.clock(ClockKind::ResolutionConfirm)
        && window.due_at <= now
    {
        due.push(event(
            window.due_at,
            derived(case, "expired", window.due_at),
            EventKind::ConfirmationExpired,
            &case.owner,
        ));
        due.sort_by(|a, b| a.order().cmp(&b.order()));
        return due;
    }
    for clock in case.clocks.values().filter(|c| c.kind != ClockKind::ResolutionConfirm) {
        for (step, at) in clock.due_steps(now, policy) {
            let kind = EventKind::Alerted {
                alert: step.kind(),
                clock: clock.kind,
                step,
                level: step.level(),
                due_at: clock.due_at,
                clocks: Vec::new(),
                stopped: None,
            };
            let source = derived(case, &format!("{}:{}", clock.kind, step_name(step)), clock.started_at);
            due.push(event(at, source, kind, &case.owner));
        }
    }
    if let Some((at, risk)) = closure_risk(case, policy)
        && at <= now
    {
        due.push(event(at, derived(case, "closure_risk", at), risk, &case.owner));
    }
    if let Some(reminder) = reminder(case, now, policy) {
        due.push(reminder);
    }
    due.sort_by(|a, b| a.order().cmp(&b.order()));
    due
}

/// The `cleared` alerts due at `now`: one per clock that breached and stopped, at the instant it
/// stopped, at the highest level it reached.
fn cleared(case: &Case, now: Timestamp) -> Vec<Event> {
    let due = case.cleared.iter().filter_map(|s| Some((s, s.at.filter(|at| *at <= now)?)));
    due.map(|(stopped, at)| {
        let kind = EventKind::Alerted {
            alert: AlertKind::Cleared,
            clock: stopped.clock,
            step: stopped.reached,
            level: stopped.reached.level(),
            due_at: stopped.due_at,
            clocks: Vec::new(),
            stopped: Some(Box::new(stopped.clone())),
        };
        event(at, stopped.source(&case.id), kind, &case.owner)
    })
    .collect()
}

/// The case's reminder due at `now`, if any: one per business day of the owning team at most, at
/// its start, listing every clock in breach and not acknowledged, the most severe first (the
/// alert's own clock and level). After a gap, only the latest is sent. Its source id names the case
/// and the day, so a second sweep cannot raise it twice.
fn reminder(case: &Case, now: Timestamp, policy: &Policy) -> Option<Event> {
    if !policy.ladder.reminders.as_alerts() {
        return None;
    }
    let mut at = next_reminder(case, case.reminded, policy).filter(|at| *at <= now)?;
    for _ in 0..1_000 {
        match next_reminder(case, Some(at), policy) {
            Some(later) if later <= now => at = later,
            _ => break,
        }
    }
    let mut clocks: Vec<&Clock> = case
        .clocks
        .values()
        .filter(|c| c.kind != ClockKind::ResolutionConfirm && c.breached() && !c.acknowledged_at(at))
        .collect();
    clocks.sort_by(|a, b| b.reached().cmp(&a.reached()).then(a.due_at.cmp(&b.due_at)));
    let first = clocks.first()?;
    let kind = EventKind::Alerted {
        alert: AlertKind::Reminder,
        clock: first.kind,
        step: first.fired.unwrap_or(Step::Level3),
        level: first.reached(),
        due_at: first.due_at,
        clocks: clocks.iter().map(|c| ClockLevel { clock: c.kind, level: c.reached(), due_at: c.due_at }).collect(),
        stopped: None,
    };
    Some(event(at, derived(case, "reminder", at), kind, &case.owner))
}

/// When the case's next reminder is due after the one of `reminded` (the start of its business
/// day): the start of a business day of the owning team, after a clock reached level 3 (below it,
/// the next escalation is the news) and at least `repeat_every` after the last reminder, when a
/// clock at level 3 is not acknowledged.
fn next_reminder(case: &Case, reminded: Option<Timestamp>, policy: &Policy) -> Option<Timestamp> {
    let every = policy.ladder.repeat_every?;
    if case.is_closed() {
        return None;
    }
    let calendar = policy.calendar(&case.owner);
    let top: Vec<&Clock> =
        case.clocks.values().filter(|c| c.kind != ClockKind::ResolutionConfirm && c.reached() >= 3).collect();
    let level3 = top.iter().filter_map(|c| c.scheduled(Step::Level3, policy)).min()?;
    let mut from = level3 + jiff::SignedDuration::from_secs(1);
    if let Some(last) = reminded {
        from = from.max(calendar.after(last, every).max(last + jiff::SignedDuration::from_secs(1)));
    }
    for _ in 0..64 {
        let start = calendar.day_start_from(from)?;
        if top.iter().any(|c| !c.acknowledged_at(start)) {
            return Some(start);
        }
        // Every clock at level 3 is acknowledged: reminders wait for the first snooze to end.
        from =
            top.iter().filter_map(|c| c.snooze.map(|s| s.until)).min()?.max(start + jiff::SignedDuration::from_secs(1));
    }
    None
}

/// When [`evaluate`] next has something to say for this case.
pub fn next_due(case: &Case) -> Option<Timestamp> {
    case.next_due
}

/// Records an event on a case (the case's own fold, [`Case::record`]) and says when the case is next
/// due: the engine's one way of changing a case.
fn record(case: &mut Case, event: Event, policy: &Policy) {
    case.record(event, policy);
    case.next_due = next_due_of(case, policy);
}

fn next_due_of(case: &Case, policy: &Policy) -> Option<Timestamp> {
    let cleared = case.cleared.iter().filter_map(|s| s.at).min();
    if case.is_closed() {
        // Closing moved `owner_since` to the closing: the case is deleted once its retention is over.
        let end = policy.data.retention.map(|r| case.owner_since.checked_add(r).unwrap_or(Timestamp::MAX));
        return cleared.into_iter().chain(end).min();
    }
    let ladder = case.clocks.values().filter_map(|c| match c.kind {
        ClockKind::ResolutionConfirm => Some(c.due_at),
        _ => c.next_step(policy).map(|(_, at)| at),
    });
    let reminder = if policy.ladder.reminders.as_alerts() { next_reminder(case, case.reminded, policy) } else { None };
    ladder.chain(closure_risk(case, policy).map(|(at, _)| at)).chain(reminder).chain(cleared).min()
}

/// A closure or holiday of the owning team over which `customer_silence` would breach: the team's
/// lead is warned `closure_lookahead` before it starts (or at once, if the clock starts later).
fn closure_risk(case: &Case, policy: &Policy) -> Option<(Timestamp, EventKind)> {
    let (warn_at, risk) = closure_ahead(case, policy)?;
    match &risk {
        EventKind::ClosureRisk { closure_starts, .. } if case.closure_warnings.contains(closure_starts) => None,
        _ => Some((warn_at, risk)),
    }
}

/// The closure or holiday of the owning team over which `customer_silence` would breach, and when
/// its lead is (or was) warned: what a daily digest lists as at closure risk, warned or not.
pub fn closure_ahead(case: &Case, policy: &Policy) -> Option<(Timestamp, EventKind)> {
    if !case.state.is_ours() {
        return None;
    }
    let silence = case.clock(ClockKind::CustomerSilence)?;
    let calendar = policy.calendar(&case.owner);
    let due = silence.due_at;
    let (closes, reopens) = calendar.closure_around(due)?;
    // Counted from when this team holds the case: a closure of the previous owner is no risk now.
    let warn_at =
        calendar.before(closes, policy.ladder.closure_lookahead).max(silence.started_at).max(case.owner_since);
    if warn_at >= closes {
        return None;
    }
    Some((warn_at, EventKind::ClosureRisk { closure_starts: closes, reopens, silence_due: due }))
}

/// The source id of an engine event: the case, what happened, and an instant that tells one clock run
/// (or one step) from the next, so the same step of the same run always gets the same id.
fn derived(case: &Case, what: &str, at: Timestamp) -> String {
    format!("baton:{}:{what}:{}", case.id, at.as_second())
}

fn step_name(step: super::clock::Step) -> String {
    match step {
        super::clock::Step::Warning => "warning".into(),
        super::clock::Step::Breach => "breach".into(),
        super::clock::Step::Level2 => "level2".into(),
        super::clock::Step::Level3 => "level3".into(),
        super::clock::Step::Reminder(n) => format!("reminder{n}"),
        // (Cleared and the case's reminder have source ids of their own.)
    }
}

fn event(at: Timestamp, source: String, kind: EventKind, owner: &TeamId) -> Event {
    Event::from(EventData::new(at, source, kind, owner.clone()))
}

/// The channel of a signal event, for display.
pub fn channel_of(event: &Event) -> Option<Channel> {
    match &event.kind {
        EventKind::Signal {
            signal:
                SignalKind::CustomerMessage { channel, .. }
                | SignalKind::AgentReply { channel, .. }
                | SignalKind::SurveyRequested { channel },
        } => Some(*channel),
        _ => None,
    }
}
