//! The case as the page shows it: a plain view, read from the [`Case`] in one function
//! ([`CaseView::of`]), so that the page depends on the domain in one place only. Every instant is
//! given in the local time of the team that owned the case then (the policy knows each team's
//! calendar and time zone); nothing here names the customer or quotes a message.

use jiff::Timestamp;

use crate::domain::case::{Case, CaseState, CloseReason, Event, EventKind};
use crate::domain::clock::ClockKind;
use crate::domain::clock::{AlertKind, Step};
use crate::domain::duration::human;
use crate::domain::ids::TeamId;
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;

/// An instant, with its local reading for people and its RFC 3339 form for `<time datetime>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub at: Timestamp,
    /// `Thu 23 Apr 10:10 CEST`, in the time zone of the team it is read for.
    pub local: String,
    pub rfc3339: String,
}

/// How a clock stands at the page's `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Running, its warning not reached.
    Running,
    /// Past its warning, not yet due.
    Warned,
    /// Past its due time: breached, at the level its ladder reached (1 to 3).
    Breached { level: u8 },
}

/// One running clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockView {
    pub kind: ClockKind,
    /// `Handoff accepted`
    pub label: &'static str,
    /// The team whose calendar it runs on.
    pub team: String,
    pub started: Moment,
    pub due: Moment,
    pub standing: Standing,
    /// `due in 3h 10m`, `overdue by 2d 4h` (calendar time).
    pub due_text: String,
    /// The ladder's next step, if any: `level 2 at Fri 24 Apr 10:10 CEST`.
    pub next_step: Option<String>,
    /// An acknowledgement still in force: `level 1 acknowledged until Fri 24 Apr 17:00 CEST`.
    pub snoozed: Option<String>,
}

/// What kind of line a timeline row is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Customer,
    Reply,
    Handoff,
    Alert,
    Other,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// In the local time of the team that owned the case after the event.
    pub at: Moment,
    /// `Sun 12 Apr` and `19:42 CEST` of `at`, for a timeline grouped by day.
    pub day: String,
    pub time: String,
    /// The owner differs from the row before's (or this is the first row).
    pub owner_changed: bool,
    pub what: String,
    pub kind: RowKind,
    pub owner: String,
    /// `follow-up`, `channel hop from x`, `public post`, `reopened`, `survey before resolution`.
    pub marks: Vec<String>,
}

/// One team's time with the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub team: String,
    pub seconds: i64,
    /// `10d 18h`
    pub human: String,
    /// The team holds the case now.
    pub current: bool,
}

/// A stretch of the case's life one team held it (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub team: String,
    pub from: i64,
    pub to: i64,
}

/// The case page's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseView {
    pub id: String,
    /// `handed off, not yet taken up`, `open`, `closed: confirmed by the customer`, ...
    pub state: String,
    pub closed: bool,
    pub priority: String,
    pub channels: Vec<String>,
    pub owner: String,
    pub owner_region: Option<String>,
    /// When the owner got the case, in the owner's time.
    pub owner_since: Moment,
    /// How long the owner has held it (calendar time).
    pub owner_for: String,
    pub opened: Moment,
    /// The oldest customer message without an answer, if any, in the owner's time.
    pub waiting_since: Option<Moment>,
    pub waiting_for: Option<String>,
    pub last_reply: Option<Moment>,
    pub clocks: Vec<ClockView>,
    pub follow_ups: u32,
    pub channel_hops: u32,
    pub public_posts: u32,
    /// Oldest first.
    pub timeline: Vec<Row>,
    /// Reminders left out of the timeline (each repeats an escalation already on it).
    pub reminders_hidden: usize,
    /// Events of a case loaded without its history, not on the page.
    pub earlier_events: u64,
    /// Time held per team, longest first.
    pub held: Vec<Held>,
    /// Who held the case when, from its opening to `now` (or its closing), in order.
    pub bands: Vec<Band>,
    /// The end of the case's life so far: `now`, or when it closed.
    pub life_end: Moment,
    pub as_of: Moment,
}

impl CaseView {
    /// The view of `case` at `now`. The one place the page reads a [`Case`].
    pub fn of(case: &Case, policy: &Policy, now: Timestamp) -> Self {
        let owner = case.owner().clone();
        let at_owner = |t: Timestamp| moment(t, &owner, policy);
        let clocks = case.clocks().values().map(|clock| {
            let standing = if now >= clock.due_at {
                Standing::Breached { level: clock.fired.map_or(1, Step::level).max(1) }
            } else if clock.warn_at.is_some_and(|w| now >= w) {
                Standing::Warned
            } else {
                Standing::Running
            };
            let gap = clock.due_at.as_second() - now.as_second();
            let due_text =
                if gap > 0 { format!("due in {}", human(gap)) } else { format!("overdue by {}", human(-gap)) };
            let next_step = clock
                .next_step(policy)
                .map(|(step, at)| format!("{} at {}", step_name(step), moment(at, &clock.team, policy).local));
            let snoozed = clock.snooze.filter(|s| s.until > now).map(|s| {
                format!("level {} acknowledged until {}", s.level, moment(s.until, &clock.team, policy).local)
            });
            ClockView {
                kind: clock.kind,
                label: clock_label(clock.kind),
                team: clock.team.to_string(),
                started: moment(clock.started_at, &clock.team, policy),
                due: moment(clock.due_at, &clock.team, policy),
                standing,
                due_text,
                next_step,
                snoozed,
            }
        });
        let mut clocks: Vec<ClockView> = clocks.collect();
        clocks.sort_by_key(|c| c.due.at);

        let mut reminders_hidden = 0;
        let mut timeline: Vec<Row> = Vec::new();
        for e in case.timeline() {
            if matches!(e.kind, EventKind::Alerted { alert: AlertKind::Reminder, .. }) {
                reminders_hidden += 1;
                continue;
            }
            if matches!(e.kind, EventKind::Continues { .. }) {
                continue;
            }
            let zoned = e.at.to_zoned(policy.calendar(&e.owner).time_zone().clone());
            timeline.push(Row {
                at: moment(e.at, &e.owner, policy),
                day: zoned.strftime("%a %-d %b").to_string(),
                time: zoned.strftime("%H:%M %Z").to_string(),
                owner_changed: timeline.last().is_none_or(|r| r.owner != e.owner.as_str()),
                what: describe(e),
                kind: row_kind(e),
                owner: e.owner.to_string(),
                marks: e.marks.labels(),
            });
        }

        let mut held: Vec<Held> = case
            .time_held(now)
            .into_iter()
            .map(|(team, d)| Held {
                current: team == owner && !case.is_closed(),
                team: team.to_string(),
                seconds: d.as_secs(),
                human: human(d.as_secs()),
            })
            .collect();
        held.sort_by(|a, b| b.seconds.cmp(&a.seconds).then_with(|| a.team.cmp(&b.team)));

        let end = if case.is_closed() { case.owner_since().min(now) } else { now };
        let mut bands: Vec<Band> = Vec::new();
        for e in case.timeline().iter().filter(|e| !matches!(e.kind, EventKind::Continues { .. })) {
            let team = e.owner.as_str();
            match bands.last_mut() {
                Some(last) if last.team == team => {}
                Some(last) => {
                    last.to = e.at.as_second();
                    bands.push(Band { team: team.to_string(), from: e.at.as_second(), to: end.as_second() });
                }
                None => bands.push(Band {
                    team: team.to_string(),
                    from: case.opened_at().min(e.at).as_second(),
                    to: end.as_second(),
                }),
            }
        }

        Self {
            id: case.id().to_string(),
            state: state(case),
            closed: case.is_closed(),
            priority: case.priority().as_str().to_string(),
            channels: case.channels().iter().map(|c| c.as_str().to_string()).collect(),
            owner_region: policy.region(&owner).map(str::to_string),
            owner_since: at_owner(case.owner_since()),
            owner_for: human(now.as_second() - case.owner_since().as_second()),
            opened: at_owner(case.opened_at()),
            waiting_since: case.waiting_since().map(at_owner),
            waiting_for: case.waiting_since().map(|t| human(now.as_second() - t.as_second())),
            last_reply: case.last_reply_at().map(at_owner),
            clocks,
            follow_ups: case.follow_ups(),
            channel_hops: case.channel_hops(),
            public_posts: case.public_posts(),
            timeline,
            reminders_hidden,
            earlier_events: case.omitted(),
            held,
            bands,
            life_end: at_owner(end),
            as_of: at_owner(now),
            owner: owner.to_string(),
        }
    }

    /// The running clock of `kind`, if any.
    pub fn clock(&self, kind: ClockKind) -> Option<&ClockView> {
        self.clocks.iter().find(|c| c.kind == kind)
    }
}

fn moment(at: Timestamp, team: &TeamId, policy: &Policy) -> Moment {
    let zoned = at.to_zoned(policy.calendar(team).time_zone().clone());
    Moment { at, local: zoned.strftime("%a %-d %b %H:%M %Z").to_string(), rfc3339: at.to_string() }
}

/// A clock's name for people.
pub fn clock_label(kind: ClockKind) -> &'static str {
    match kind {
        ClockKind::FirstResponse => "First response",
        ClockKind::NextResponse => "Next response",
        ClockKind::HandoffAccept => "Handoff accepted",
        ClockKind::PeriodicUpdate => "Periodic update",
        ClockKind::CustomerSilence => "Customer hears from us",
        ClockKind::ResolutionConfirm => "Resolution confirmed",
    }
}

fn step_name(step: Step) -> String {
    match step {
        Step::Warning => "warning".to_string(),
        Step::Breach => "breach (level 1)".to_string(),
        Step::Level2 => "level 2".to_string(),
        Step::Level3 => "level 3".to_string(),
        Step::Reminder(_) => "reminder (level 3)".to_string(),
    }
}

fn state(case: &Case) -> String {
    match (case.state(), case.close_reason(), &case.merged_into()) {
        (_, _, Some(into)) => format!("closed: merged into {into}"),
        (CaseState::Closed, Some(CloseReason::Confirmed), _) => "closed: the customer confirmed".to_string(),
        (CaseState::Closed, Some(CloseReason::Unconfirmed), _) => "closed: not confirmed in time".to_string(),
        (CaseState::Closed, Some(CloseReason::Continued), _) => match &case.continued_in() {
            Some(next) => format!("closed: goes on in {next}"),
            None => "closed: goes on in a continuation".to_string(),
        },
        (CaseState::Closed, _, _) => "closed".to_string(),
        (CaseState::Open, _, _) => "open".to_string(),
        (CaseState::HandedOff, _, _) => "handed off, not yet taken up".to_string(),
        (CaseState::AwaitingCustomer, _, _) => "waiting for the customer".to_string(),
        (CaseState::ResolutionProposed, _, _) => "resolution proposed, waiting for the customer".to_string(),
    }
}

fn row_kind(event: &Event) -> RowKind {
    match &event.kind {
        EventKind::Signal { signal } => match signal {
            SignalKind::CustomerMessage { .. } | SignalKind::CustomerRejection => RowKind::Customer,
            SignalKind::AgentReply { .. } | SignalKind::ResolutionProposed => RowKind::Reply,
            SignalKind::Handoff { .. } | SignalKind::Accept { .. } => RowKind::Handoff,
            _ => RowKind::Other,
        },
        EventKind::Alerted { .. } | EventKind::ClosureRisk { .. } => RowKind::Alert,
        _ => RowKind::Other,
    }
}

fn describe(event: &Event) -> String {
    match &event.kind {
        EventKind::Signal { signal } => match signal {
            SignalKind::CustomerMessage { channel, public, .. } => {
                format!("Customer wrote ({channel}{})", if *public { ", public" } else { "" })
            }
            SignalKind::AgentReply { channel, team, awaiting_customer } => {
                let by = team.as_ref().map(|t| format!(" by {t}")).unwrap_or_default();
                let asks = if *awaiting_customer { ", asking the customer" } else { "" };
                format!("Reply to the customer{by} ({channel}{asks})")
            }
            SignalKind::InternalNote { team } => match team {
                Some(team) => format!("Internal note by {team}"),
                None => "Internal note".to_string(),
            },
            SignalKind::Handoff { to } => format!("Handed to {to}"),
            SignalKind::Accept { team } => format!("{team} took the case up"),
            SignalKind::ResolutionProposed => "Resolution proposed".to_string(),
            SignalKind::CustomerConfirmation => "Customer confirmed: solved".to_string(),
            SignalKind::CustomerRejection => "Customer said: not solved".to_string(),
            SignalKind::Link { identity } => {
                format!("Identity linked ({})", identity.to_string().split(':').next().unwrap_or("?"))
            }
            SignalKind::Acknowledge { clock, level, by, snooze } if by.is_empty() => {
                format!("{clock} level {level} acknowledged, snoozed {snooze}")
            }
            SignalKind::Acknowledge { clock, level, by, snooze } => {
                format!("{by} acknowledged {clock} level {level}, snoozed {snooze}")
            }
            SignalKind::SurveyRequested { channel } => format!("Satisfaction survey sent ({channel})"),
            SignalKind::PriorityChange { priority } => format!("Priority changed to {}", priority.as_str()),
        },
        EventKind::Alerted { alert, clock, level, .. } => match alert {
            AlertKind::Warning => format!("Alert: warning, {clock}"),
            AlertKind::Breach => format!("Alert: breach, {clock}"),
            AlertKind::Escalation => format!("Alert: level {level} escalation, {clock}"),
            AlertKind::Reminder => format!("Alert: reminder, {clock}"),
            AlertKind::ClosureRisk => format!("Alert: closure risk, {clock}"),
            AlertKind::Cleared => format!("Cleared: {clock} (had reached level {level})"),
        },
        EventKind::ClosureRisk { .. } => "Alert: closure risk (the team will be away)".to_string(),
        EventKind::ConfirmationExpired => "Confirmation window ran out: closed".to_string(),
        EventKind::Absorbed { case } => format!("Merged in {case} (same customer)"),
        EventKind::MergedInto { case } => format!("Merged into {case}"),
        EventKind::ContinuedIn { case } => format!("Full: goes on in {case}"),
        EventKind::Continues { case, .. } => format!("Continues {case}"),
    }
}
