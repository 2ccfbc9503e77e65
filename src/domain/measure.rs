//! What a change did to a case's clocks and holds, as the reports, the daily digest's figures and the
//! metrics count it: a clock run started, breached, stopped (met or not), a team's hold ended.
//!
//! Measures are read off the case's state before and after a change ([`changes`]), never kept on
//! the case, so the engine's fold has one job. A report refolds a whole case event by event
//! ([`history`]) and gets every measure of its life; the ingest and the sweep measure each write
//! they make.
//!
//! Counting rules, one place for all three readers:
//! - A clock **run** is a clock and the instant it started. It is counted for the team whose
//!   calendar it runs on when it ends (a handoff moves a running clock to the receiving team).
//! - **Breached** once per run: when its breach was raised, or when it stopped at or after its due
//!   time before a sweep raised it.
//! - **Met**: stopped before its due time and never breached, whatever stopped it.
//! - A response clock **tightened** by a more urgent message (a public post after an email) is
//!   the same run going on with an earlier due time ([`Measure::Retimed`]), not a run met and a new
//!   one started.
//! - A `handoff_accept` run is **accepted** when the receiving team took the case up (accepted,
//!   replied or proposed a resolution) and still owns it; handed on or closed, it is not.
//! - A **hold** ends when the case changes hands or closes: the team, from when to when, and the
//!   business time of its own calendar in between.
//! - A case that goes on in a continuation counts nothing at its closing (its clocks and hold go
//!   on there), and a continuation counts nothing for the state it carries in.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::case::{Case, CloseReason, Whole};
use super::clock::{Clock, ClockKind};
use super::ids::TeamId;
use super::policy::Policy;

/// One fact of a clock run or a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "measure", rename_all = "snake_case")]
pub enum Measure {
    /// A clock run started, on `team`'s calendar.
    Started { clock: ClockKind, team: TeamId, started_at: Timestamp },
    /// A clock run passed its due time (counted once per run).
    Breached { clock: ClockKind, team: TeamId, started_at: Timestamp, due_at: Timestamp },
    /// A clock run stopped at `at`, after `elapsed` of its own basis (business or calendar time).
    Stopped {
        clock: ClockKind,
        team: TeamId,
        started_at: Timestamp,
        due_at: Timestamp,
        at: Timestamp,
        elapsed: SignedDuration,
        /// Before its due time and never breached.
        met: bool,
        /// A `handoff_accept` run the receiving team took up.
        accepted: bool,
    },
    /// A running response clock was tightened (a more urgent message came, say a public post
    /// after an email): the run goes on from `started_at`, the instant of that message, with an
    /// earlier due time. Its later measures carry the new `started_at`; it did not stop.
    Retimed { clock: ClockKind, team: TeamId, from: Timestamp, started_at: Timestamp },
    /// `team` held the case from `from` to `to` (calendar time), `business` of it in its hours.
    Held { team: TeamId, from: Timestamp, to: Timestamp, business: SignedDuration },
}

impl Measure {
    /// The team the measure counts for.
    pub fn team(&self) -> &TeamId {
        match self {
            Self::Started { team, .. }
            | Self::Breached { team, .. }
            | Self::Stopped { team, .. }
            | Self::Retimed { team, .. }
            | Self::Held { team, .. } => team,
        }
    }

    /// When it happened: a run's start, its due time, its stop; a hold's end.
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Started { started_at, .. } => *started_at,
            Self::Breached { due_at, .. } => *due_at,
            Self::Stopped { at, .. } => *at,
            Self::Retimed { started_at, .. } => *started_at,
            Self::Held { to, .. } => *to,
        }
    }
}

/// The measures of a change from `before` (`None`: the case is new) to `after`, made at `at` (the
/// last event the change recorded). A run that started and stopped within one change is not seen:
/// the ingest records one signal at a time, and [`history`] one event at a time.
pub fn changes(before: Option<&Case>, after: &Case, at: Timestamp, policy: &Policy) -> Vec<Measure> {
    let mut measures = Vec::new();
    if after.continues().is_some() && before.is_none_or(|b| b.continues().is_none()) {
        // A continuation's first event carries the full case's state in: counted there already.
        return measures;
    }
    let Some(before) = before else {
        measures.extend(after.clocks().values().map(started));
        return measures;
    };
    if after.close_reason() == Some(CloseReason::Continued) && !before.is_closed() {
        return measures;
    }
    for run in before.clocks().values() {
        match after.clocks().get(&run.kind).filter(|a| a.started_at == run.started_at) {
            Some(now) => {
                if !run.breached() && now.breached() {
                    measures.push(breached(now));
                }
            }
            None if is_tightened(run, after.clocks().get(&run.kind), at) => {
                let now = &after.clocks()[&run.kind];
                measures.push(Measure::Retimed {
                    clock: run.kind,
                    team: now.team.clone(),
                    from: run.started_at,
                    started_at: now.started_at,
                });
                if !run.breached() && now.breached() {
                    measures.push(breached(now));
                }
            }
            None => {
                let late = !run.breached() && at >= run.due_at;
                if late {
                    measures.push(breached(run));
                }
                let accepted = run.kind == ClockKind::HandoffAccept && after.owner() == &run.team && !after.is_closed();
                measures.push(Measure::Stopped {
                    clock: run.kind,
                    team: run.team.clone(),
                    started_at: run.started_at,
                    due_at: run.due_at,
                    at,
                    elapsed: run.elapsed(at, policy),
                    met: !run.breached() && !late,
                    accepted,
                });
            }
        }
    }
    for run in after.clocks().values() {
        let before = before.clocks().get(&run.kind);
        let retimed = before.is_some_and(|b| is_tightened(b, Some(run), at));
        if !retimed && before.is_none_or(|b| b.started_at != run.started_at) {
            measures.push(started(run));
        }
    }
    let closed = !before.is_closed() && after.is_closed();
    if (before.owner() != after.owner() || closed) && at > before.owner_since() {
        let team = before.owner().clone();
        let from = before.owner_since();
        let business = policy.calendar(&team).between(from, at);
        measures.push(Measure::Held { team, from, to: at, business });
    }
    measures
}

/// Every measure of a whole case's life, in timeline order: its events folded one by one from the
/// start, as a rebuild does. A case merged into another counts nothing: its signals are the other
/// case's now, and count there.
pub fn history(case: &Whole, policy: &Policy) -> Vec<Measure> {
    if case.close_reason() == Some(CloseReason::Merged) {
        return Vec::new();
    }
    let mut measures = Vec::new();
    super::engine::refold(case, policy, |before, after, at| {
        measures.extend(changes(before, after, at, policy));
    });
    measures
}

/// Whether `now` is `run` tightened at `at` rather than a new run: a response clock (the only
/// kind a customer message tightens, see `Case::respond_within`) whose new run starts at the
/// change's instant with an earlier due time. A response clock is never stopped and started
/// again by one change otherwise: a reply stops it, and only the customer's next message starts it.
fn is_tightened(run: &Clock, now: Option<&Clock>, at: Timestamp) -> bool {
    let response = matches!(run.kind, ClockKind::FirstResponse | ClockKind::NextResponse);
    now.is_some_and(|now| {
        response && now.started_at != run.started_at && now.started_at == at && now.due_at < run.due_at
    })
}

fn started(run: &Clock) -> Measure {
    Measure::Started { clock: run.kind, team: run.team.clone(), started_at: run.started_at }
}

fn breached(run: &Clock) -> Measure {
    Measure::Breached { clock: run.kind, team: run.team.clone(), started_at: run.started_at, due_at: run.due_at }
}

/// One team's figures for one of its local days: the clock runs that met their target and those
/// that breached, per clock, and the time its holds that ended that day lasted. The daily digest
/// shows the previous business day's; the stores add them up as changes are recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DayFigures {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub met: BTreeMap<ClockKind, u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub breached: BTreeMap<ClockKind, u32>,
    /// Calendar seconds of the holds that ended that day.
    pub held_s: i64,
    /// Business seconds (the team's own hours) of the same holds.
    pub held_business_s: i64,
}

impl DayFigures {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &DayFigures) {
        for (clock, n) in &other.met {
            *self.met.entry(*clock).or_default() += n;
        }
        for (clock, n) in &other.breached {
            *self.breached.entry(*clock).or_default() += n;
        }
        self.held_s += other.held_s;
        self.held_business_s += other.held_business_s;
    }
}

/// Figures per team and local day (the team's own calendar's zone).
pub type Figures = BTreeMap<(TeamId, Date), DayFigures>;

/// Adds measures to `figures`, each on its team's local day: a run met or breached, a hold ended.
/// Starts count nowhere here (the reports count them from [`history`]).
pub fn tally(figures: &mut Figures, measures: &[Measure], policy: &Policy) {
    for measure in measures {
        let day = policy.calendar(measure.team()).date_of(measure.at());
        let key = (measure.team().clone(), day);
        match measure {
            Measure::Started { .. } | Measure::Retimed { .. } | Measure::Stopped { met: false, .. } => {}
            Measure::Breached { clock, .. } => {
                *figures.entry(key).or_default().breached.entry(*clock).or_default() += 1;
            }
            Measure::Stopped { clock, met: true, .. } => {
                *figures.entry(key).or_default().met.entry(*clock).or_default() += 1;
            }
            Measure::Held { from, to, business, .. } => {
                let day = figures.entry(key).or_default();
                day.held_s += to.as_second() - from.as_second();
                day.held_business_s += business.as_secs();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CaseId, Channel, Identity};
    use crate::domain::signal::{Signal, SignalKind};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn customer(channel: Channel, public: bool, when: &str, source: &str) -> Signal {
        let identity = Identity::Email("c@example.ch".into());
        Signal::new(at(when), source, SignalKind::CustomerMessage { channel, public, identity })
    }

    #[test]
    fn a_tightened_response_clock_is_one_run_met_once() {
        // An email at 08:00 in Zurich, a public post on X at 08:30 (its 1-hour target tightens
        // first_response), and one reply at 09:20: one run, met once, never a second start.
        let policy = Policy::default_policy();
        let central: TeamId = "central".parse().unwrap();
        let id = CaseId::derive("BTN", "measure", 0);
        let mut case = crate::domain::engine::open(
            id,
            central.clone(),
            customer(Channel::Email, false, "2026-04-13T06:00:00Z", "t:1"),
            &policy,
        )
        .unwrap();
        let post = customer(Channel::X, true, "2026-04-13T06:30:00Z", "t:2");
        crate::domain::engine::apply(&mut case, post, &policy).unwrap();
        let reply = SignalKind::AgentReply { channel: Channel::X, team: Some(central), awaiting_customer: false };
        crate::domain::engine::apply(&mut case, Signal::new(at("2026-04-13T07:20:00Z"), "t:3", reply), &policy)
            .unwrap();
        let whole = case.into_whole().unwrap();
        let first_response: Vec<Measure> = history(&whole, &policy)
            .into_iter()
            .filter(|m| match m {
                Measure::Started { clock, .. }
                | Measure::Stopped { clock, .. }
                | Measure::Breached { clock, .. }
                | Measure::Retimed { clock, .. } => *clock == ClockKind::FirstResponse,
                Measure::Held { .. } => false,
            })
            .collect();
        let kinds: Vec<&str> = first_response
            .iter()
            .map(|m| match m {
                Measure::Started { .. } => "started",
                Measure::Retimed { .. } => "retimed",
                Measure::Stopped { met: true, .. } => "met",
                Measure::Stopped { .. } => "stopped late",
                Measure::Breached { .. } => "breached",
                Measure::Held { .. } => "held",
            })
            .collect();
        assert_eq!(kinds, ["started", "retimed", "met"], "{first_response:?}");
        let mut figures = Figures::new();
        tally(&mut figures, &first_response, &policy);
        let day = figures.values().next().unwrap();
        assert_eq!(day.met.get(&ClockKind::FirstResponse), Some(&1));
    }
}
