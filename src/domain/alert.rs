//! The alert message, `baton.alert.v1` (a contract: see docs/design.md). The sweep publishes it over SNS
//! and the replay prints it; both build it here.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::case::{Case, CloseReason, Event, EventKind, Marks, Stop, Stopped};
use super::clock::{AlertKind, ClockKind, ClockLevel};
use super::duration::human;
use super::engine::channel_of;
use super::ids::{Channel, TeamId};
use super::policy::Policy;
use super::signal::SignalKind;

pub const SCHEMA: &str = "baton.alert.v1";
/// How many of the last timeline events an alert carries (a case loaded without its history keeps
/// that many at hand).
const TIMELINE_TAIL: usize = super::case::RECENT;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub schema: String,
    pub kind: String,
    pub case_id: String,
    pub clock: ClockKind,
    pub level: u8,
    pub team: TeamId,
    pub region: Option<String>,
    pub priority: String,
    pub channels: Vec<Channel>,
    pub due_at: Timestamp,
    pub at: Timestamp,
    pub customer_waiting_since: Timestamp,
    pub summary: String,
    pub timeline: Vec<TimelineLine>,
    /// A reminder's clocks: every clock of the case in breach and not acknowledged, the most severe
    /// first (the alert's own `clock` and `level`). Other kinds are about their one clock and carry
    /// none (the field is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clocks: Vec<ClockLevel>,
    /// The signed links (case page, and acknowledge), when the link secret and public URL are
    /// configured; filled where the alert leaves (the SNS notifier, the replay's printer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<crate::link::Links>,
}

/// One event as an alert shows it: what happened, where, and who held the case. No message bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub at: Timestamp,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The team that acted, when Baton knows it (a reply, an acceptance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<TeamId>,
    /// The team that owned the case after the event.
    pub owner: TeamId,
    #[serde(default, skip_serializing_if = "Marks::is_empty")]
    pub marks: Marks,
}

impl Alert {
    /// The alert for an `Alerted` or `ClosureRisk` event of `case`; `None` for other events.
    pub fn build(case: &Case, event: &Event, policy: &Policy) -> Option<Self> {
        let (kind, clock, level, due_at, clocks) = match &event.kind {
            EventKind::Alerted { alert, clock, level, due_at, clocks, .. } => {
                (alert.as_str(), *clock, *level, *due_at, clocks.clone())
            }
            EventKind::ClosureRisk { silence_due, .. } => {
                ("closure_risk", ClockKind::CustomerSilence, 1, *silence_due, Vec::new())
            }
            _ => return None,
        };
        let team = event.owner.clone();
        let tail = case.timeline.iter().filter(|e| e.at <= event.at && e.is_shown()).collect::<Vec<_>>();
        let timeline =
            tail[tail.len().saturating_sub(TIMELINE_TAIL)..].iter().map(|e| TimelineLine::of(e)).collect::<Vec<_>>();
        Some(Self {
            schema: SCHEMA.to_string(),
            kind: kind.to_string(),
            case_id: case.id.to_string(),
            clock,
            level,
            region: policy.region(&team).map(str::to_string),
            team,
            priority: case.priority.as_str().to_string(),
            channels: case.channels.iter().copied().collect(),
            due_at,
            at: event.at,
            customer_waiting_since: case.waiting_since.unwrap_or(case.opened_at),
            summary: summary(case, event, policy),
            timeline,
            clocks,
            links: None,
        })
    }

    /// The alert as a person reads it (an email from SNS, on a phone): the summary, then the facts,
    /// the last events and how to acknowledge. Times are UTC; the summary gives the team's local time.
    pub fn text(&self) -> String {
        let minute = |t: Timestamp| t.strftime("%a %-d %b %H:%M UTC").to_string();
        let mut text = format!("{}\n\n", self.summary);
        text += &format!("Case:     {} ({} priority; {})\n", self.case_id, self.priority, join(&self.channels));
        let region = self.region.as_deref().map(|r| format!(" (region {r})")).unwrap_or_default();
        text += &format!("Held by:  {}{region}\n", self.team);
        text += &format!("Clock:    {}, level {}, due {}\n", self.clock, self.level, minute(self.due_at));
        for other in self.clocks.iter().skip(1) {
            text += &format!("          {}, level {}, due {}\n", other.clock, other.level, minute(other.due_at));
        }
        text += &format!("Waiting:  since {}\n", minute(self.customer_waiting_since));
        if !self.timeline.is_empty() {
            text += "\nLast events:\n";
            for line in &self.timeline {
                let channel = line.channel.map(|c| format!(" ({c})")).unwrap_or_default();
                let by = line.by.as_ref().map(|t| format!(" by {t}")).unwrap_or_default();
                let marks = marks(&line.marks);
                text += &format!("  {}  {}{channel}{by}, owner {}{marks}\n", minute(line.at), line.event, line.owner);
            }
        }
        // A cleared clock has nothing left to acknowledge.
        if self.kind != AlertKind::Cleared.as_str() {
            text += &format!(
                "\nAcknowledge: POST /cases/{}/ack {{\"clock\": \"{}\", \"level\": {}}}\n",
                self.case_id, self.clock, self.level
            );
        }
        text
    }

    /// A readable subject under 100 characters whose first 60 say the case, the team and what is
    /// wrong (a phone's lock screen shows about that much): `[Baton] BTN-EGT6FK support-ch: level 3
    /// escalation, handoff_accept`.
    pub fn subject(&self) -> String {
        let what = match (self.kind.as_str(), self.level) {
            ("escalation", level) => format!("level {level} escalation"),
            ("breach", _) => "breach".to_string(),
            ("warning", _) => "warning".to_string(),
            ("reminder", _) => "reminder".to_string(),
            ("cleared", _) => "cleared".to_string(),
            _ => "closure risk".to_string(),
        };
        let subject = format!("[Baton] {} {}: {what}, {}", self.case_id, self.team, self.clock);
        subject.chars().take(99).collect()
    }
}

fn join(channels: &[Channel]) -> String {
    channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

fn marks(marks: &Marks) -> String {
    let labels = marks.labels();
    if labels.is_empty() { String::new() } else { format!(" [{}]", labels.join(", ")) }
}

impl TimelineLine {
    pub fn of(event: &Event) -> Self {
        let name = match &event.kind {
            EventKind::Signal { signal } => signal.name().to_string(),
            EventKind::Alerted { alert, clock, .. } => format!("{}:{clock}", alert.as_str()),
            EventKind::ClosureRisk { .. } => "closure_risk".to_string(),
            EventKind::ConfirmationExpired => "confirmation_expired".to_string(),
            EventKind::Absorbed { case } => format!("absorbed:{case}"),
            EventKind::MergedInto { case } => format!("merged_into:{case}"),
            EventKind::ContinuedIn { case } => format!("continued_in:{case}"),
            EventKind::Continues { case, .. } => format!("continues:{case}"),
        };
        let by = match &event.kind {
            EventKind::Signal { signal: SignalKind::AgentReply { team, .. } } => team.clone(),
            EventKind::Signal { signal: SignalKind::Accept { team } } => Some(team.clone()),
            _ => None,
        };
        Self {
            at: event.at,
            event: name,
            channel: channel_of(event),
            by,
            owner: event.owner.clone(),
            marks: event.marks.clone(),
        }
    }
}

/// A `cleared` alert's summary: good news first, what stopped the clock, after how long, and how
/// far it had climbed.
fn cleared(
    case: &Case,
    event: &Event,
    clock: ClockKind,
    level: u8,
    stopped: Option<&Stopped>,
    policy: &Policy,
) -> String {
    let owner = &event.owner;
    let tz = policy.calendar(owner).time_zone().clone();
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%a %-d %b %H:%M %Z").to_string();
    let breached = stopped.map(|s| format!(" (breached {})", local(s.due_at))).unwrap_or_default();
    let started = stopped.map_or(event.at, |s| s.started_at);
    let after = human(event.at.as_second() - started.as_second());
    let what = match stopped.map(|s| &s.why) {
        Some(Stop::Replied { by }) => format!("{} replied", by.as_ref().unwrap_or(owner)),
        Some(Stop::Accepted { by }) => format!("{by} took the case up"),
        Some(Stop::ResolutionProposed) => format!("{owner} proposed a resolution"),
        Some(Stop::HandedOn { to }) => format!("the case was handed on to {to}"),
        Some(Stop::Closed { reason }) => match reason {
            CloseReason::Confirmed => "the customer confirmed the resolution".to_string(),
            CloseReason::Unconfirmed => "the case closed unconfirmed".to_string(),
            CloseReason::Merged => format!(
                "the case was merged into {}",
                case.merged_into.as_ref().map_or_else(|| "another".to_string(), ToString::to_string)
            ),
            CloseReason::Continued => "the case goes on in its continuation".to_string(),
        },
        Some(Stop::CustomerWrote) | None => format!("{clock} stopped"),
    };
    format!(
        "Cleared: {what} after {after}; {clock} had reached level {level}{breached}. {} is held by {owner}.",
        case.id,
    )
}

/// Alerts show what people did, not earlier alerts.
fn summary(case: &Case, event: &Event, policy: &Policy) -> String {
    let team = &event.owner;
    let tz = policy.calendar(team).time_zone().clone();
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%a %-d %b %H:%M %Z").to_string();
    let since = |t: Timestamp| human(event.at.as_second() - t.as_second());
    let (head, clock) = match &event.kind {
        EventKind::Alerted { alert: AlertKind::Cleared, clock, level, stopped, .. } => {
            return cleared(case, event, *clock, *level, stopped.as_deref(), policy);
        }
        EventKind::Alerted { alert, step, clock, level, .. } => {
            let head = match alert {
                AlertKind::Warning => "Warning".to_string(),
                AlertKind::Breach => "Breach".to_string(),
                AlertKind::Reminder => format!("Reminder (level {level})"),
                _ => format!("Level {}", step.level()),
            };
            (head, *clock)
        }
        EventKind::ClosureRisk { closure_starts, reopens, .. } => {
            return format!(
                "Closure risk: {team} is away from {} to {}; the customer of {} would go unheard past the {} ceiling. Answer before the closure.",
                local(*closure_starts),
                local(*reopens),
                case.id,
                policy.target(ClockKind::CustomerSilence, super::ids::ChannelClass::Email, case.priority),
            );
        }
        _ => return String::new(),
    };
    let running = case.clock(clock);
    let started = running.map_or(event.at, |c| c.started_at);
    let what = match clock {
        ClockKind::FirstResponse => {
            format!("{team} has not answered the customer's first message ({})", since(started))
        }
        ClockKind::NextResponse => format!("{team} has not answered the customer's message of {}", local(started)),
        ClockKind::HandoffAccept => format!("{team} has not taken up the case handed to it {} ago", since(started)),
        ClockKind::PeriodicUpdate => format!("{team} has not updated the customer since {}", local(started)),
        ClockKind::CustomerSilence => format!("the customer has not heard from us for {}", since(started)),
        ClockKind::ResolutionConfirm => "the confirmation window ran out".to_string(),
    };
    let mut stakes = Vec::new();
    let plural = |n: u32, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if case.follow_ups > 0 {
        stakes.push(plural(case.follow_ups, "follow-up"));
    }
    if case.channel_hops > 0 {
        stakes.push(plural(case.channel_hops, "channel hop"));
    }
    if case.public_posts > 0 {
        stakes.push(plural(case.public_posts, "public post"));
    }
    let stakes = if stakes.is_empty() { String::new() } else { format!("; {}", stakes.join(", ")) };
    let waiting = case.waiting_since.unwrap_or(case.opened_at);
    // A reminder names the other clocks it carries, so one message a day says all of it.
    let also = match &event.kind {
        EventKind::Alerted { alert: AlertKind::Reminder, clocks, .. } if clocks.len() > 1 => {
            let others: Vec<String> =
                clocks.iter().skip(1).map(|c| format!("{} (level {})", c.clock, c.level)).collect();
            format!("; also in breach: {}", others.join(", "))
        }
        _ => String::new(),
    };
    format!(
        "{head}: {what}{also}. Customer waiting since {} ({}){stakes}. {team} holds {} since {}.",
        local(waiting),
        since(waiting),
        case.id,
        local(case.owner_since.min(event.at)),
    )
}
