//! The daily digest, `baton.digest.v1` (a contract: docs/design.md "Reports and the daily digest"):
//! one message per team on each of its business days, at its `digest_at`, with what its lead must
//! see that morning. The cases in breach (where `[ladder] reminders = "digest"` puts the reminders),
//! the handoffs to it not yet taken up, the cases at closure risk, and the previous business day's
//! figures. The sweep builds it from the team's open cases; the replay prints it.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::case::{Case, EventKind};
use super::clock::{ClockKind, ClockLevel};
use super::duration::human;
use super::engine;
use super::ids::TeamId;
use super::measure::DayFigures;
use super::policy::Policy;
use crate::link::Links;

pub const SCHEMA: &str = "baton.digest.v1";

/// The most rows a digest lists per list (the first in its order; `*_total` counts them all): a
/// team with hundreds of cases in breach still gets a digest that fits SNS's 256 KB and reads on a
/// phone.
pub const MAX_ROWS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub schema: String,
    /// Always `digest`, so a reader of the alert topic tells it from an alert (`kind` there too).
    pub kind: String,
    pub team: TeamId,
    pub region: Option<String>,
    /// The team's local business day the digest is for.
    pub day: Date,
    /// When it was due: `digest_at` on that day.
    pub at: Timestamp,
    /// One human line: what needs the lead today.
    pub summary: String,
    /// The team's cases with a clock in breach, the longest-waiting customer first ([`MAX_ROWS`]
    /// at most; `in_breach_total` counts them all).
    pub in_breach: Vec<InBreach>,
    pub in_breach_total: usize,
    /// Cases handed to the team that it has not taken up yet, the oldest first.
    pub handoffs_waiting: Vec<HandoffWaiting>,
    pub handoffs_waiting_total: usize,
    /// Cases whose customer would go unheard past the silence ceiling over a closure ahead.
    pub closure_risk: Vec<ClosureRisk>,
    pub closure_risk_total: usize,
    /// The previous business day's figures (its local date, clocks met and breached, time held).
    pub previous_day: PreviousDay,
}

/// A case in breach: its most severe clock (`clock`, `level`, `due_at`) and every clock in breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InBreach {
    pub case_id: String,
    pub clock: ClockKind,
    pub level: u8,
    pub due_at: Timestamp,
    pub clocks: Vec<ClockLevel>,
    pub priority: String,
    pub customer_waiting_since: Timestamp,
    /// Every clock in breach is acknowledged (snoozed) at the digest's time.
    pub acknowledged: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffWaiting {
    pub case_id: String,
    /// When the case was handed to the team.
    pub since: Timestamp,
    /// Seconds since then, at the digest's time.
    pub age_s: i64,
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureRisk {
    pub case_id: String,
    pub closure_starts: Timestamp,
    pub reopens: Timestamp,
    pub silence_due: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousDay {
    /// `None` when the team has no business day in the year before.
    pub day: Option<Date>,
    #[serde(flatten)]
    pub figures: DayFigures,
}

impl Digest {
    /// The digest of `team` for `day`, due at `at`, from the cases it owns (open ones; others are
    /// left out) and its figures of the previous business day `previous`.
    pub fn build(
        team: &TeamId,
        day: Date,
        at: Timestamp,
        cases: &[Case],
        previous: (Option<Date>, DayFigures),
        policy: &Policy,
    ) -> Self {
        let mine = cases.iter().filter(|c| c.owner() == team && !c.is_closed());
        let (mut in_breach, mut handoffs_waiting, mut closure_risk) = (Vec::new(), Vec::new(), Vec::new());
        for case in mine {
            if let Some(row) = in_breach_row(case, at) {
                in_breach.push(row);
            }
            if let Some(handoff) = case.clock(ClockKind::HandoffAccept).filter(|c| c.team == *team) {
                handoffs_waiting.push(HandoffWaiting {
                    case_id: case.id().to_string(),
                    since: handoff.started_at,
                    age_s: (at.as_second() - handoff.started_at.as_second()).max(0),
                    due_at: handoff.due_at,
                    links: None,
                });
            }
            if let Some((warn_at, EventKind::ClosureRisk { closure_starts, reopens, silence_due })) =
                engine::closure_ahead(case, policy)
                && warn_at <= at
            {
                closure_risk.push(ClosureRisk {
                    case_id: case.id().to_string(),
                    closure_starts,
                    reopens,
                    silence_due,
                    links: None,
                });
            }
        }
        in_breach.sort_by(|a, b| (a.customer_waiting_since, &a.case_id).cmp(&(b.customer_waiting_since, &b.case_id)));
        handoffs_waiting.sort_by(|a, b| (a.since, &a.case_id).cmp(&(b.since, &b.case_id)));
        closure_risk.sort_by(|a, b| (a.closure_starts, &a.case_id).cmp(&(b.closure_starts, &b.case_id)));
        let previous_day = PreviousDay { day: previous.0, figures: previous.1 };
        let totals = (in_breach.len(), handoffs_waiting.len(), closure_risk.len());
        in_breach.truncate(MAX_ROWS);
        handoffs_waiting.truncate(MAX_ROWS);
        closure_risk.truncate(MAX_ROWS);
        let mut digest = Self {
            schema: SCHEMA.to_string(),
            kind: "digest".to_string(),
            team: team.clone(),
            region: policy.region(team).map(str::to_string),
            day,
            at,
            summary: String::new(),
            in_breach,
            in_breach_total: totals.0,
            handoffs_waiting,
            handoffs_waiting_total: totals.1,
            closure_risk,
            closure_risk_total: totals.2,
            previous_day,
        };
        digest.summary = digest.summarise();
        digest
    }

    /// The id that names this digest everywhere (outbox, SNS deduplication): the team and its day.
    pub fn id(&self) -> String {
        id(&self.team, self.day)
    }

    fn summarise(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = vec![plural(self.in_breach_total, "case in breach", "cases in breach")];
        let oldest = self.handoffs_waiting.first().map(|h| format!(" (oldest {})", human(h.age_s))).unwrap_or_default();
        parts.push(format!("{}{oldest}", plural(self.handoffs_waiting_total, "handoff waiting", "handoffs waiting")));
        if self.closure_risk_total > 0 {
            parts.push(plural(self.closure_risk_total, "case at closure risk", "cases at closure risk"));
        }
        let figures = &self.previous_day.figures;
        let met: u32 = figures.met.values().sum();
        let breached: u32 = figures.breached.values().sum();
        let day = self.day.strftime("%a %-d %b");
        format!("{} on {day}: {}. Previous business day: {met} met, {breached} breached.", self.team, parts.join(", "))
    }

    /// A readable subject under 100 characters: the team and the counts.
    pub fn subject(&self) -> String {
        let subject = format!(
            "[Baton] {} digest {}: {} in breach, {} to take up",
            self.team, self.day, self.in_breach_total, self.handoffs_waiting_total
        );
        subject.chars().take(99).collect()
    }

    /// The digest as a lead reads it in an email: the summary, then each list with its links.
    pub fn text(&self) -> String {
        let minute = |t: Timestamp| t.strftime("%a %-d %b %H:%M UTC").to_string();
        let link = |links: &Option<Links>| {
            links.as_ref().map(|l| {
                let ack = l.ack.as_ref().map(|a| format!("\n      Acknowledge: {a}")).unwrap_or_default();
                format!("\n      Open: {}{ack}", l.case)
            })
        };
        let more = |shown: usize, total: usize| {
            if total > shown { format!("  and {} more\n", total - shown) } else { String::new() }
        };
        let mut text = format!("{}\n", self.summary);
        text += &format!("\nIn breach ({}):\n", self.in_breach_total);
        if self.in_breach.is_empty() {
            text += "  none\n";
        }
        for row in &self.in_breach {
            let clocks: Vec<String> = row.clocks.iter().map(|c| format!("{} level {}", c.clock, c.level)).collect();
            let acked = if row.acknowledged { " (acknowledged)" } else { "" };
            text += &format!(
                "  {}  {}{acked}; customer waiting since {}{}\n",
                row.case_id,
                clocks.join(", "),
                minute(row.customer_waiting_since),
                link(&row.links).unwrap_or_default()
            );
        }
        text += &more(self.in_breach.len(), self.in_breach_total);
        text += &format!("\nHanded to {} and not taken up ({}):\n", self.team, self.handoffs_waiting_total);
        if self.handoffs_waiting.is_empty() {
            text += "  none\n";
        }
        for row in &self.handoffs_waiting {
            text += &format!(
                "  {}  for {} (since {}, due {}){}\n",
                row.case_id,
                human(row.age_s),
                minute(row.since),
                minute(row.due_at),
                link(&row.links).unwrap_or_default()
            );
        }
        text += &more(self.handoffs_waiting.len(), self.handoffs_waiting_total);
        if self.closure_risk_total > 0 {
            text += &format!("\nAt closure risk ({}):\n", self.closure_risk_total);
            for row in &self.closure_risk {
                text += &format!(
                    "  {}  closed {} to {}; the customer's silence ceiling passes {}{}\n",
                    row.case_id,
                    minute(row.closure_starts),
                    minute(row.reopens),
                    minute(row.silence_due),
                    link(&row.links).unwrap_or_default()
                );
            }
            text += &more(self.closure_risk.len(), self.closure_risk_total);
        }
        let figures = &self.previous_day.figures;
        match self.previous_day.day {
            Some(day) => {
                text += &format!("\nPrevious business day ({day}):\n");
                for clock in ClockKind::ALL {
                    let (met, breached) = (figures.met.get(&clock), figures.breached.get(&clock));
                    if met.is_some() || breached.is_some() {
                        let (met, breached) = (met.copied().unwrap_or(0), breached.copied().unwrap_or(0));
                        text += &format!("  {clock}: {met} met, {breached} breached\n");
                    }
                }
                text += &format!(
                    "  time held: {} ({} in business hours)\n",
                    human(figures.held_s),
                    human(figures.held_business_s)
                );
            }
            None => text += "\nNo previous business day.\n",
        }
        text
    }

    /// Fills each row's links (the case page, and the acknowledge page of a case in breach), made
    /// at `now`, as the notifier and the replay do for alerts.
    pub fn link(&mut self, linker: &crate::link::Linker, now: Timestamp) {
        let parse = |id: &str| id.parse::<super::ids::CaseId>().ok();
        for row in &mut self.in_breach {
            row.links = parse(&row.case_id).map(|case| linker.links(&case, Some((row.clock, row.level)), now));
        }
        // A handoff not yet due has nothing to acknowledge (one in breach is also in `in_breach`).
        for row in &mut self.handoffs_waiting {
            row.links = parse(&row.case_id).map(|case| linker.links(&case, None, now));
        }
        for row in &mut self.closure_risk {
            row.links = parse(&row.case_id).map(|case| linker.links(&case, None, now));
        }
    }
}

/// Whether a digest may list this case: open, and with a clock in breach, a handoff not taken up,
/// or a closure risk it was warned of. The stores index such cases by owning team (the key says so),
/// so a team's digest reads those, not every open case it holds.
pub fn may_list(case: &Case) -> bool {
    !case.is_closed()
        && (case.clocks().values().any(|c| c.kind != ClockKind::ResolutionConfirm && c.breached())
            || case.clock(ClockKind::HandoffAccept).is_some()
            || !case.closure_warnings().is_empty())
}

/// The id of `team`'s digest of `day`.
pub fn id(team: &TeamId, day: Date) -> String {
    format!("baton:digest:{team}:{day}")
}

fn in_breach_row(case: &Case, at: Timestamp) -> Option<InBreach> {
    let mut clocks: Vec<&super::clock::Clock> =
        case.clocks().values().filter(|c| c.kind != ClockKind::ResolutionConfirm && c.breached()).collect();
    clocks.sort_by(|a, b| b.reached().cmp(&a.reached()).then(a.due_at.cmp(&b.due_at)));
    let first = clocks.first()?;
    Some(InBreach {
        case_id: case.id().to_string(),
        clock: first.kind,
        level: first.reached(),
        due_at: first.due_at,
        clocks: clocks.iter().map(|c| ClockLevel { clock: c.kind, level: c.reached(), due_at: c.due_at }).collect(),
        priority: case.priority().as_str().to_string(),
        customer_waiting_since: case.waiting_since().unwrap_or(case.opened_at()),
        acknowledged: clocks.iter().all(|c| c.acknowledged_at(at)),
        links: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// support-ch's digest of Tuesday 28 April in the velcro replay (`baton replay samples/velcro.jsonl --json`).
    const VELCRO: &str = r#"{"schema": "baton.digest.v1", "kind": "digest", "team": "support-ch", "region": "CH", "day": "2026-04-28", "at": "2026-04-28T06:00:00Z", "summary": "support-ch on Tue 28 Apr: 1 case in breach, 1 handoff waiting (oldest 4d 21h). Previous business day: 0 met, 1 breached.", "in_breach": [{"case_id": "BTN-EGT6FK", "clock": "handoff_accept", "level": 2, "due_at": "2026-04-23T12:10:00Z", "clocks": [{"clock": "handoff_accept", "level": 2, "due_at": "2026-04-23T12:10:00Z"}, {"clock": "periodic_update", "level": 1, "due_at": "2026-04-27T08:12:00Z"}], "priority": "normal", "customer_waiting_since": "2026-04-12T17:42:10Z", "acknowledged": false}], "in_breach_total": 1, "handoffs_waiting": [{"case_id": "BTN-EGT6FK", "since": "2026-04-23T08:10:00Z", "age_s": 424200, "due_at": "2026-04-23T12:10:00Z"}], "handoffs_waiting_total": 1, "closure_risk": [], "closure_risk_total": 0, "previous_day": {"day": "2026-04-27", "breached": {"periodic_update": 1}, "held_s": 0, "held_business_s": 0}}"#;

    #[test]
    fn a_digest_lists_fifty_rows_at_most_and_counts_them_all() {
        use crate::domain::engine::{self, Due};
        use crate::domain::ids::{CaseId, Channel, Identity};
        use crate::domain::signal::{Signal, SignalKind};
        let policy = Policy::default_policy();
        let central: TeamId = "central".parse().unwrap();
        let monday: Timestamp = "2026-04-13T06:00:00Z".parse().unwrap();
        let tuesday: Timestamp = "2026-04-14T06:00:00Z".parse().unwrap();
        // 60 emails nobody answered on Monday: each first_response breached at 16:00.
        let cases: Vec<Case> = (0..60)
            .map(|n| {
                let identity = Identity::Email(format!("c{n}@example.ch"));
                let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity };
                let id = CaseId::derive("BTN", "digest", n);
                let mut case =
                    engine::open(id, central.clone(), Signal::new(monday, format!("t:{n}"), kind), &policy).unwrap();
                let Due::Events(events) = engine::due(&case, tuesday, &policy) else { panic!("due") };
                engine::commit(&mut case, events, &policy).unwrap();
                case
            })
            .collect();
        let digest = Digest::build(
            &central,
            tuesday.to_zoned(jiff::tz::TimeZone::UTC).date(),
            tuesday,
            &cases,
            (None, DayFigures::default()),
            &policy,
        );
        assert_eq!((digest.in_breach.len(), digest.in_breach_total), (MAX_ROWS, 60));
        assert!(digest.summary.contains("60 cases in breach"), "{}", digest.summary);
        assert!(digest.text().contains("  and 10 more\n"), "{}", digest.text());
        assert!(serde_json::to_string(&digest).unwrap().len() < 64_000);
    }

    #[test]
    fn the_email_text_reads_as_a_lead_needs_it() {
        let digest: Digest = serde_json::from_str(VELCRO).unwrap();
        let text = digest.text();
        println!("Subject: {}\n\n{text}", digest.subject());
        assert_eq!(digest.subject(), "[Baton] support-ch digest 2026-04-28: 1 in breach, 1 to take up");
        for expected in [
            "support-ch on Tue 28 Apr: 1 case in breach, 1 handoff waiting (oldest 4d 21h).",
            "In breach (1):\n  BTN-EGT6FK  handoff_accept level 2, periodic_update level 1; customer waiting since Sun 12 Apr 17:42 UTC",
            "Handed to support-ch and not taken up (1):\n  BTN-EGT6FK  for 4d 21h (since Thu 23 Apr 08:10 UTC, due Thu 23 Apr 12:10 UTC)",
            "Previous business day (2026-04-27):\n  periodic_update: 0 met, 1 breached\n  time held: 0m (0m in business hours)",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }
}
