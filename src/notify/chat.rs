//! Alerts in the custom-notification format of Amazon Q Developer in chat applications (formerly
//! AWS Chatbot), which relays them to Slack and Microsoft Teams channels and drops any SNS message
//! not in this format. Documented at
//! <https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html> ("Event schema",
//! "Parameter details"):
//!
//! ```text
//! { "version": String, "source": String, "id": String,
//!   "content": { "textType": String, "title": String, "description": String,
//!                "nextSteps": [String, ...], "keywords": [String, ...] },
//!   "metadata": { "threadId": String, "summary": String, "eventType": String,
//!                 "relatedResources": [String, ...],
//!                 "additionalContext": { "<key>": String, ... } } }
//! ```
//!
//! `version` (required) must be `1.0`, `source` (required) must be `custom`, `id` is a unique event
//! identifier, and `client-markdown` is the only `textType` (rendered in the chat platform's own
//! markdown). Notifications with the same `threadId` are threaded together: Baton uses the case id,
//! so a case's warning, breach, escalations and `cleared` land in one thread.
//!
//! The documentation reached when this was written states no length limits for the text fields.
//! The caps below are Baton's own and deliberately small, for a phone: the title stays under 100
//! characters (the alert's subject is already), the description under [`MAX_DESCRIPTION`].
//!
//! This module is pure: [`notification`] turns an alert (and its links, when configured) into the
//! message; [`super::sns`] publishes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::alert::Alert;
use crate::domain::digest::Digest;
use crate::domain::duration::human;
use crate::link::Links;

/// Where the schema is documented.
pub const SCHEMA_URL: &str = "https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html";
/// The longest title Baton sends, in characters.
pub const MAX_TITLE: usize = 99;
/// The longest description Baton sends, in characters.
pub const MAX_DESCRIPTION: usize = 2000;

/// A custom notification, field for field as documented (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatNotification {
    /// Always `1.0`.
    pub version: String,
    /// Always `custom`.
    pub source: String,
    /// Unique per alert: case, clock, kind, level and the instant it became due.
    pub id: String,
    pub content: Content,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Always `client-markdown`.
    pub text_type: String,
    pub title: String,
    pub description: String,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The case id: one thread per case.
    pub thread_id: String,
    pub summary: String,
    /// The alert's `kind`.
    pub event_type: String,
    /// The case page, when links are configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_resources: Vec<String>,
    pub additional_context: BTreeMap<String, String>,
}

/// The chat form of `alert`, with its links when the link secret and public URL are configured.
pub fn notification(alert: &Alert, links: Option<&Links>) -> ChatNotification {
    let case = &alert.case_id;
    let minute = |t: jiff::Timestamp| t.strftime("%a %-d %b %H:%M UTC").to_string();
    let region = alert.region.as_deref().map(|r| format!(" (region {r})")).unwrap_or_default();
    let channels = alert.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
    let mut description = format!("{}\n\n", alert.summary);
    description += &format!("Case: {case} ({} priority; {channels})\n", alert.priority);
    description += &format!("Held by: {}{region}\n", alert.team);
    description += &format!("Clock: {}, level {}, due {}\n", alert.clock, alert.level, minute(alert.due_at));
    description += &format!("Customer waiting since: {}", minute(alert.customer_waiting_since));

    let mut next_steps = Vec::new();
    match links {
        Some(links) => {
            if let Some(ack) = &links.ack {
                next_steps.push(format!("Acknowledge {} level {}: {ack}", alert.clock, alert.level));
            }
            next_steps.push(format!("Open the case: {}", links.case));
        }
        None if alert.kind != "cleared" => next_steps.push(format!(
            "Acknowledge: POST /cases/{case}/ack {{\"clock\": \"{}\", \"level\": {}}}",
            alert.clock, alert.level
        )),
        None => {}
    }

    let mut keywords = vec![alert.kind.clone(), alert.clock.to_string(), alert.team.to_string()];
    keywords.extend(alert.region.clone());
    keywords.push(format!("{} priority", alert.priority));

    let mut context = BTreeMap::new();
    context.insert("case_id".to_string(), case.clone());
    context.insert("kind".to_string(), alert.kind.clone());
    context.insert("clock".to_string(), alert.clock.to_string());
    context.insert("level".to_string(), alert.level.to_string());
    context.insert("team".to_string(), alert.team.to_string());
    context.extend(alert.region.clone().map(|r| ("region".to_string(), r)));
    context.insert("priority".to_string(), alert.priority.clone());
    context.insert("due_at".to_string(), alert.due_at.to_string());
    context.insert("at".to_string(), alert.at.to_string());
    context.insert("customer_waiting_since".to_string(), alert.customer_waiting_since.to_string());

    ChatNotification {
        version: "1.0".to_string(),
        source: "custom".to_string(),
        id: format!("baton:{case}:{}:{}:{}:{}", alert.clock, alert.kind, alert.level, alert.at.as_second()),
        content: Content {
            text_type: "client-markdown".to_string(),
            title: cut(&title(alert), MAX_TITLE),
            description: cut(&description, MAX_DESCRIPTION),
            next_steps,
            keywords,
        },
        metadata: Metadata {
            thread_id: case.clone(),
            summary: alert.summary.clone(),
            event_type: alert.kind.clone(),
            related_resources: links.map(|l| vec![l.case.clone()]).unwrap_or_default(),
            additional_context: context,
        },
    }
}

/// The chat form of a team's daily digest (its rows carry their links when configured): one thread
/// per team (`threadId` `digest:<team>`), the summary as title, each list in the description.
pub fn digest_notification(digest: &Digest) -> ChatNotification {
    let mut description = format!("{}\n", digest.summary);
    let link = |links: &Option<Links>| links.as_ref().map(|l| format!(" <{}|open>", l.case)).unwrap_or_default();
    if !digest.in_breach.is_empty() {
        description += "\n*In breach*\n";
        for row in &digest.in_breach {
            description += &format!("• {} {} level {}{}\n", row.case_id, row.clock, row.level, link(&row.links));
        }
    }
    if !digest.handoffs_waiting.is_empty() {
        description += "\n*Handoffs not taken up*\n";
        for row in &digest.handoffs_waiting {
            description += &format!("• {} for {}{}\n", row.case_id, human(row.age_s), link(&row.links));
        }
    }
    if !digest.closure_risk.is_empty() {
        description += "\n*At closure risk*\n";
        for row in &digest.closure_risk {
            description += &format!("• {}{}\n", row.case_id, link(&row.links));
        }
    }
    let mut keywords = vec!["digest".to_string(), digest.team.to_string()];
    keywords.extend(digest.region.clone());
    let mut context = BTreeMap::new();
    context.insert("team".to_string(), digest.team.to_string());
    context.extend(digest.region.clone().map(|r| ("region".to_string(), r)));
    context.insert("day".to_string(), digest.day.to_string());
    context.insert("in_breach".to_string(), digest.in_breach.len().to_string());
    context.insert("handoffs_waiting".to_string(), digest.handoffs_waiting.len().to_string());
    context.insert("closure_risk".to_string(), digest.closure_risk.len().to_string());
    ChatNotification {
        version: "1.0".to_string(),
        source: "custom".to_string(),
        id: digest.id(),
        content: Content {
            text_type: "client-markdown".to_string(),
            title: cut(&format!(":newspaper: {} digest {}", digest.team, digest.day), MAX_TITLE),
            description: cut(description.trim_end(), MAX_DESCRIPTION),
            next_steps: Vec::new(),
            keywords,
        },
        metadata: Metadata {
            thread_id: format!("digest:{}", digest.team),
            summary: digest.summary.clone(),
            event_type: "digest".to_string(),
            related_resources: Vec::new(),
            additional_context: context,
        },
    }
}

/// `:rotating_light: BTN-7K3QF9 support-ch: breach, handoff_accept`: what a lock screen shows
/// first, the case, who holds it and what is wrong.
fn title(alert: &Alert) -> String {
    let (emoji, what) = match (alert.kind.as_str(), alert.level) {
        ("warning", _) => (":warning:", "warning".to_string()),
        ("breach", _) => (":rotating_light:", "breach".to_string()),
        ("escalation", level) => (":rotating_light:", format!("level {level} escalation")),
        ("reminder", level) => (":alarm_clock:", format!("reminder (level {level})")),
        ("closure_risk", _) => (":date:", "closure risk".to_string()),
        ("cleared", level) => (":white_check_mark:", format!("cleared (was level {level})")),
        (other, _) => (":bell:", other.replace('_', " ")),
    };
    format!("{emoji} {} {}: {what}, {}", alert.case_id, alert.team, alert.clock)
}

/// At most `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_cap_with_an_ellipsis() {
        assert_eq!(cut("short", 10), "short");
        let cut = cut(&"é".repeat(30), 10);
        assert_eq!((cut.chars().count(), cut.ends_with('…')), (10, true));
    }
}
