//! The kinds of SLA clock, and one clock with its escalation ladder.
//!
//! A business clock runs on the calendar of the team that holds it. When the case changes hands, the
//! business time used so far is banked (`used`) and the rest runs on the new team's calendar from the
//! handoff on, so every team is measured on its own hours. Calendar clocks ignore calendars for their
//! target, but their ladder delays are business days of the holding team.
//!
//! The ladder is a sequence of steps: warning, breach (level 1), level 2, level 3. A step's instant is
//! derived from the clock, never stored, so it follows handoffs; what is stored is the last step fired
//! and an acknowledgement's snooze. Reminders are not a clock's steps: a case has one voice, and its
//! reminder (one per business day, listing every clock in breach) is scheduled by the engine.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::duration::{Basis, PolicyDuration};
use super::ids::TeamId;
use super::policy::Policy;
use super::sorted::SortedMap;

/// The SLA clocks a case can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    FirstResponse,
    NextResponse,
    HandoffAccept,
    PeriodicUpdate,
    CustomerSilence,
    ResolutionConfirm,
}

impl ClockKind {
    pub const ALL: [Self; 6] = [
        Self::FirstResponse,
        Self::NextResponse,
        Self::HandoffAccept,
        Self::PeriodicUpdate,
        Self::CustomerSilence,
        Self::ResolutionConfirm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::NextResponse => "next_response",
            Self::HandoffAccept => "handoff_accept",
            Self::PeriodicUpdate => "periodic_update",
            Self::CustomerSilence => "customer_silence",
            Self::ResolutionConfirm => "resolution_confirm",
        }
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ClockKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| format!("unknown clock `{text}`: one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

/// A step of the escalation ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step", content = "n")]
pub enum Step {
    Warning,
    Breach,
    Level2,
    Level3,
    /// The n-th reminder of this clock after level 3 (n >= 1). Only in cases stored before reminders
    /// became one per case (see `engine`): a clock's ladder now ends at level 3.
    Reminder(u32),
}

/// The kinds of alert Baton publishes (the `kind` of `baton.alert.v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Warning,
    Breach,
    Escalation,
    Reminder,
    ClosureRisk,
    /// A clock that breached stopped: what a breach opened (a page, a chat thread) can be closed.
    Cleared,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Breach => "breach",
            Self::Escalation => "escalation",
            Self::Reminder => "reminder",
            Self::ClosureRisk => "closure_risk",
            Self::Cleared => "cleared",
        }
    }
}

impl Step {
    pub fn level(self) -> u8 {
        match self {
            Self::Warning => 0,
            Self::Breach => 1,
            Self::Level2 => 2,
            Self::Level3 | Self::Reminder(_) => 3,
        }
    }

    pub fn kind(self) -> AlertKind {
        match self {
            Self::Warning => AlertKind::Warning,
            Self::Breach => AlertKind::Breach,
            Self::Level2 | Self::Level3 => AlertKind::Escalation,
            Self::Reminder(_) => AlertKind::Reminder,
        }
    }

    fn next(self) -> Self {
        match self {
            Self::Warning => Self::Breach,
            Self::Breach => Self::Level2,
            Self::Level2 => Self::Level3,
            Self::Level3 => Self::Reminder(1),
            Self::Reminder(n) => Self::Reminder(n.saturating_add(1)),
        }
    }

    /// A number that grows along the ladder; used to keep the highest step fired.
    fn rank(self) -> u64 {
        match self {
            Self::Warning => 0,
            Self::Breach => 1,
            Self::Level2 => 2,
            Self::Level3 => 3,
            Self::Reminder(n) => 3 + u64::from(n),
        }
    }
}

/// A clock as a reminder lists it (`clocks` of `baton.alert.v1`): the level it reached and when it
/// breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockLevel {
    pub clock: ClockKind,
    pub level: u8,
    pub due_at: Timestamp,
}

/// An acknowledgement: steps up to `level` are silenced until `until`; higher ones wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snooze {
    pub level: u8,
    pub until: Timestamp,
}

/// A running clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub kind: ClockKind,
    pub started_at: Timestamp,
    /// The team whose calendar the clock runs on (the owner, or the receiving team of a handoff).
    pub team: TeamId,
    pub target: PolicyDuration,
    /// Business time used before `segment_start` (business clocks only).
    pub used: SignedDuration,
    pub segment_start: Timestamp,
    pub warn_at: Option<Timestamp>,
    pub due_at: Timestamp,
    pub fired: Option<Step>,
    pub snooze: Option<Snooze>,
}

impl Clock {
    pub fn start(kind: ClockKind, at: Timestamp, team: TeamId, target: PolicyDuration, policy: &Policy) -> Self {
        let mut clock = Self {
            kind,
            started_at: at,
            team,
            target,
            used: SignedDuration::ZERO,
            segment_start: at,
            warn_at: None,
            due_at: at,
            fired: None,
            snooze: None,
        };
        clock.schedule(policy);
        clock
    }

    /// Moves the clock to another team's calendar from `at` on, keeping the business time used.
    pub fn rebase(&mut self, at: Timestamp, team: TeamId, policy: &Policy) {
        if self.team == team {
            return;
        }
        if self.target.basis == Basis::Business && at > self.segment_start {
            self.used += policy.calendar(&self.team).between(self.segment_start, at);
            self.segment_start = at;
        }
        self.team = team;
        self.schedule(policy);
    }

    /// Takes another target (the case's priority changed) from `at` on: the business time used so far
    /// is banked and counts against the new target; the ladder goes on from the step it reached.
    pub fn retarget(&mut self, at: Timestamp, target: PolicyDuration, policy: &Policy) {
        if self.target.basis == Basis::Business && at > self.segment_start {
            self.used += policy.calendar(&self.team).between(self.segment_start, at);
            self.segment_start = at;
        }
        self.target = target;
        self.schedule(policy);
    }

    /// Recomputes the due and warning instants.
    fn schedule(&mut self, policy: &Policy) {
        let calendar = policy.calendar(&self.team);
        let share = policy.ladder.warning_percent.map(i64::from);
        match self.target.basis {
            Basis::Business => {
                let total = calendar.business(self.target);
                // A target shorter than the time already used (a priority raised late) is due at once.
                self.due_at = calendar.add(self.segment_start, (total - self.used).max(SignedDuration::ZERO));
                self.warn_at = share.map(|p| {
                    let warn = SignedDuration::from_secs(total.as_secs() * p / 100);
                    if warn > self.used {
                        calendar.add(self.segment_start, warn - self.used)
                    } else {
                        self.segment_start
                    }
                });
            }
            Basis::Calendar => {
                self.due_at = calendar.after(self.started_at, self.target);
                self.warn_at = share.map(|p| {
                    let span = self.due_at.duration_since(self.started_at);
                    self.started_at + SignedDuration::from_secs(span.as_secs() * p / 100)
                });
            }
        }
    }

    /// Business time (or calendar time, for calendar clocks) used up to `now`.
    pub fn elapsed(&self, now: Timestamp, policy: &Policy) -> SignedDuration {
        match self.target.basis {
            Basis::Business => self.used + policy.calendar(&self.team).between(self.segment_start, now),
            Basis::Calendar => now.duration_since(self.started_at).max(SignedDuration::ZERO),
        }
    }

    /// The instant a ladder step is scheduled for, before any snooze.
    pub fn scheduled(&self, step: Step, policy: &Policy) -> Option<Timestamp> {
        let calendar = policy.calendar(&self.team);
        let ladder = &policy.ladder;
        match step {
            Step::Warning => self.warn_at,
            Step::Breach => Some(self.due_at),
            Step::Level2 => Some(calendar.after(self.due_at, ladder.level_2_after)),
            Step::Level3 => Some(calendar.after(self.due_at, ladder.level_3_after)),
            // The ladder ends at level 3; reminders are the case's (`engine`), not the clock's.
            Step::Reminder(_) => None,
        }
    }

    /// The level the clock reached: that of the last step fired (0 before its breach).
    pub fn reached(&self) -> u8 {
        self.fired.map_or(0, Step::level)
    }

    /// Whether the clock breached (its breach, level 1, was raised).
    pub fn breached(&self) -> bool {
        self.reached() >= 1
    }

    /// Whether an acknowledgement covers the level the clock reached at `at` (a snooze not over).
    pub fn acknowledged_at(&self, at: Timestamp) -> bool {
        self.snooze.is_some_and(|s| at < s.until && s.level >= self.reached())
    }

    /// The next step to fire and the instant it becomes due, taking the snooze into account.
    pub fn next_step(&self, policy: &Policy) -> Option<(Step, Timestamp)> {
        let mut step = self.fired.map_or(Step::Warning, Step::next);
        loop {
            let Some(at) = self.scheduled(step, policy) else {
                if step == Step::Warning {
                    step = Step::Breach;
                    continue;
                }
                return None;
            };
            match self.snooze {
                Some(snooze) if at < snooze.until => {
                    if step.level() <= snooze.level {
                        // Acknowledged: this step is silenced, the ladder goes on from the next one.
                        step = step.next();
                        continue;
                    }
                    return Some((step, snooze.until));
                }
                _ => return Some((step, at)),
            }
        }
    }

    /// The steps due at `now`, in order. After a gap (a sweep that did not run), a warning is not
    /// sent once the breach is due too.
    pub fn due_steps(&self, now: Timestamp, policy: &Policy) -> Vec<(Step, Timestamp)> {
        let mut due: Vec<(Step, Timestamp)> = Vec::new();
        let mut probe = self.clone();
        while let Some((step, at)) = probe.next_step(policy) {
            if at > now {
                break;
            }
            if due.last().is_some_and(|&(last, _)| last == Step::Warning) {
                due.pop();
            }
            due.push((step, at));
            probe.fired = Some(step);
        }
        due
    }

    /// Records a fired step; an older step never moves the ladder back.
    pub fn mark_fired(&mut self, step: Step) {
        if self.fired.is_none_or(|f| step.rank() > f.rank()) {
            self.fired = Some(step);
        }
    }
}

/// A case's running clocks, at most one of each kind, in kind order (see [`SortedMap`]: a
/// `BTreeMap` allocated about 2 KB per case for the two or three clocks it runs).
pub type Clocks = SortedMap<ClockKind, Clock>;
