//! The alert message, `baton.alert.v1` (a contract: see DESIGN.md). The sweep publishes it over SNS
//! and the replay prints it; both build it here.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::case::{Case, Event, EventKind, Marks};
use super::clock::ClockKind;
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
        let (kind, clock, level, due_at) = match &event.kind {
            EventKind::Alerted { alert, clock, level, due_at, .. } => (alert.as_str(), *clock, *level, *due_at),
            EventKind::ClosureRisk { silence_due, .. } => ("closure_risk", ClockKind::CustomerSilence, 1, *silence_due),
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
        text += &format!(
            "\nAcknowledge: POST /cases/{}/ack {{\"clock\": \"{}\", \"level\": {}}}\n",
            self.case_id, self.clock, self.level
        );
        text
    }

    /// A readable subject under 100 characters.
    pub fn subject(&self) -> String {
        let what = match (self.kind.as_str(), self.level) {
            ("escalation", level) => format!("level {level} escalation"),
            ("breach", _) => "breach".to_string(),
            ("warning", _) => "warning".to_string(),
            ("reminder", _) => "reminder".to_string(),
            _ => "closure risk".to_string(),
        };
        let subject = format!("[Baton] {} {what}: {} held by {}", self.case_id, self.clock, self.team);
        subject.chars().take(99).collect()
    }
}

fn join(channels: &[Channel]) -> String {
    channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

fn marks(marks: &Marks) -> String {
    let mut found = Vec::new();
    if marks.follow_up {
        found.push("follow-up".to_string());
    }
    if let Some(from) = marks.channel_hop {
        found.push(format!("channel hop from {from}"));
    }
    if marks.public {
        found.push("public".to_string());
    }
    if marks.reopened {
        found.push("reopened".to_string());
    }
    if marks.premature_survey {
        found.push("survey before resolution".to_string());
    }
    if found.is_empty() { String::new() } else { format!(" [{}]", found.join(", ")) }
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

/// Alerts show what people did, not earlier alerts.
fn summary(case: &Case, event: &Event, policy: &Policy) -> String {
    let team = &event.owner;
    let tz = policy.calendar(team).time_zone().clone();
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%a %-d %b %H:%M %Z").to_string();
    let since = |t: Timestamp| human(event.at.as_second() - t.as_second());
    let (head, clock) = match &event.kind {
        EventKind::Alerted { step, clock, .. } => {
            let head = match step.kind() {
                super::clock::AlertKind::Warning => "Warning".to_string(),
                super::clock::AlertKind::Breach => "Breach".to_string(),
                super::clock::AlertKind::Reminder => "Reminder (level 3)".to_string(),
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
    format!(
        "{head}: {what}. Customer waiting since {} ({}){stakes}. {team} holds {} since {}. Acknowledge: POST /cases/{}/ack",
        local(waiting),
        since(waiting),
        case.id,
        local(case.owner_since.min(event.at)),
        case.id,
    )
}
