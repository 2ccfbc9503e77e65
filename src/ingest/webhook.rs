//! The generic webhook body (`POST /webhooks/generic`, signed with Standard Webhooks): for helpdesks,
//! chat widgets and other platforms. One event per body; the README documents it.
//!
//! ```json
//! {"id": "evt_42", "type": "customer_message", "at": "2026-04-13T08:00:00Z",
//!  "customer": {"channel": "chat", "id": "visitor-7"}, "channel": "chat", "message": "chat:m-1"}
//! ```

use jiff::Timestamp;
use serde::Deserialize;

use super::{CaseRef, Inbound, IngestError, Parsed, Route, Skipped, redact};
use crate::domain::ids::{Channel, Identity, MessageRef, Priority, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

/// A generic webhook's body, as the helpdesk posts it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Unique per event: the dedupe key (`webhook:<id>`).
    id: String,
    #[serde(rename = "type")]
    kind: String,
    /// When it happened at the source.
    at: Timestamp,
    /// The case, by id or by a message reference it holds.
    #[serde(default)]
    case: Option<String>,
    /// This message's own reference (`<kind>:<value>`), so later events can name it.
    #[serde(default)]
    message: Option<String>,
    /// References of the messages this one answers.
    #[serde(default)]
    in_reply_to: Vec<String>,
    #[serde(default)]
    customer: Option<Customer>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    public: bool,
    /// The team: that writes (`agent_reply`, `internal_note`), that receives (`handoff`), that
    /// accepts (`accept`), or that a new case belongs to (`customer_message`).
    #[serde(default)]
    team: Option<TeamId>,
    #[serde(default)]
    awaiting_customer: bool,
    /// The message's text: only a short excerpt of it is kept (the policy's `data.excerpt_chars`).
    #[serde(default)]
    text: Option<String>,
    /// The case's priority as the helpdesk has it (`low`, `normal`, `high`, `urgent`): a change of
    /// priority right after the event, on its case.
    #[serde(default)]
    priority: Option<Priority>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Customer {
    channel: String,
    id: String,
}

/// Parses one generic webhook body. An unknown `type` is skipped (and counted), not an error.
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    parse_body(Body::deserialize(body).map_err(IngestError::json("webhook body"))?, policy)
}

/// [`parse`] from the body's JSON text, read straight into the typed body.
pub fn parse_str(body: &str, policy: &Policy) -> Result<Parsed, IngestError> {
    parse_body(serde_json::from_str(body).map_err(IngestError::json("webhook body"))?, policy)
}

/// [`parse`] from the body already read into its type.
pub fn parse_body(body: Body, policy: &Policy) -> Result<Parsed, IngestError> {
    let invalid = |why: String| IngestError::Invalid(format!("webhook event {}: {why}", body.id));
    if body.id.trim().is_empty() {
        return Err(IngestError::Invalid("webhook event without an id".into()));
    }
    let reference = |text: &str| text.parse::<MessageRef>().map_err(|e| invalid(redact(&e.to_string())));
    let case =
        body.case.as_deref().map(|c| c.parse::<CaseRef>().map_err(|e| invalid(redact(&e.to_string())))).transpose()?;
    let own: Vec<MessageRef> = body.message.as_deref().map(reference).transpose()?.into_iter().collect();
    let thread = body.in_reply_to.iter().map(|r| reference(r)).collect::<Result<Vec<_>, _>>()?;
    let customer = body
        .customer
        .as_ref()
        .map(|c| Identity::for_channel(&c.channel, &c.id).map_err(|e| invalid(redact(&e.to_string()))))
        .transpose()?;
    let team = |what: &str| body.team.clone().ok_or_else(|| invalid(format!("`{what}` needs `team`")));
    let channel = body.channel.unwrap_or(Channel::Web);
    if let Some(team) = &body.team
        && policy.team(team).is_none()
    {
        return Err(invalid(format!("no team named `{team}` in the policy")));
    }
    let kind = match body.kind.as_str() {
        "customer_message" => {
            let identity = customer.clone().ok_or_else(|| invalid("`customer_message` needs `customer`".into()))?;
            SignalKind::CustomerMessage { channel, public: body.public, identity }
        }
        "agent_reply" => {
            SignalKind::AgentReply { channel, team: body.team.clone(), awaiting_customer: body.awaiting_customer }
        }
        "internal_note" => SignalKind::InternalNote { team: body.team.clone() },
        "handoff" => SignalKind::Handoff { to: team("handoff")? },
        "accept" => SignalKind::Accept { team: team("accept")? },
        "resolution_proposed" => SignalKind::ResolutionProposed,
        "customer_confirmation" => SignalKind::CustomerConfirmation,
        "customer_rejection" => SignalKind::CustomerRejection,
        other => return Ok(Parsed { skipped: vec![Skipped::UnknownType(other.to_string())], ..Parsed::default() }),
    };
    let new_case_team = matches!(kind, SignalKind::CustomerMessage { .. }).then(|| body.team.clone()).flatten();
    // The priority goes to the event's case: named, threaded (the event's own message included), or
    // the customer's; the event itself comes first, so a customer's first message opens the case.
    let priority = body.priority.map(|priority| {
        let thread = own.iter().chain(&thread).cloned().collect();
        let route = Route { case: case.clone(), thread, customer: customer.clone(), ..Route::default() };
        let source = format!("webhook:{}:priority", body.id);
        Inbound { signal: Signal::new(body.at, source, SignalKind::PriorityChange { priority }), route }
    });
    let route = Route { case, thread, customer, own, team: new_case_team, ..Route::default() };
    let signal = Signal::new(body.at, format!("webhook:{}", body.id), kind).with_excerpt(body.text.as_deref());
    let inbound = std::iter::once(Inbound { signal, route }).chain(priority).collect();
    Ok(Parsed { inbound, ..Parsed::default() })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy() -> Policy {
        Policy::default_policy()
    }

    #[test]
    fn a_customer_message_opens_or_joins_the_customers_case() {
        let body = json!({"id": "evt_1", "type": "customer_message", "at": "2026-04-13T08:00:00Z",
            "customer": {"channel": "chat", "id": "visitor-7"}, "channel": "chat", "message": "other:m-1",
            "team": "support-de"});
        let parsed = parse(&body, &policy()).unwrap();
        let inbound = &parsed.inbound[0];
        assert_eq!(&*inbound.signal.source, "webhook:evt_1");
        assert_eq!(inbound.route.customer, Some(Identity::Other("visitor-7".into())));
        assert_eq!(inbound.route.own, vec![MessageRef::other("m-1")]);
        assert_eq!(inbound.route.team, Some("support-de".parse().unwrap()));
        assert!(matches!(inbound.signal.kind, SignalKind::CustomerMessage { channel: Channel::Chat, .. }));
    }

    #[test]
    fn a_handoff_names_its_case_and_team() {
        let body = json!({"id": "evt_2", "type": "handoff", "at": "2026-04-13T09:00:00Z",
            "case": "BTN-7K3QF9", "team": "support-ch"});
        let inbound = &parse(&body, &policy()).unwrap().inbound[0];
        assert_eq!(inbound.signal.kind, SignalKind::Handoff { to: "support-ch".parse().unwrap() });
        assert_eq!(inbound.route.case, Some(CaseRef::Id("BTN-7K3QF9".parse().unwrap())));
        assert_eq!(inbound.route.team, None, "only a new case takes its team from the body");
    }

    #[test]
    fn bad_bodies_say_why_and_unknown_types_are_skipped() {
        let unknown = json!({"id": "e", "type": "ticket_tagged", "at": "2026-04-13T09:00:00Z"});
        assert_eq!(parse(&unknown, &policy()).unwrap().skipped, vec![Skipped::UnknownType("ticket_tagged".into())]);
        for (body, reason) in [
            (json!({"id": "e", "type": "handoff", "at": "2026-04-13T09:00:00Z"}), "`handoff` needs `team`"),
            (
                json!({"id": "e", "type": "handoff", "at": "2026-04-13T09:00:00Z", "team": "nope"}),
                "no team named `nope`",
            ),
            (json!({"id": "e", "type": "customer_message", "at": "2026-04-13T09:00:00Z"}), "needs `customer`"),
            (json!({"id": "e", "type": "accept", "at": "yesterday", "team": "central"}), "malformed webhook body"),
            (json!({"id": "e", "type": "accept", "at": "2026-04-13T09:00:00Z", "extra": 1}), "unknown field `extra`"),
            (json!({"id": " ", "type": "accept", "at": "2026-04-13T09:00:00Z"}), "without an id"),
        ] {
            let error = parse(&body, &policy()).unwrap_err().to_string();
            assert!(error.contains(reason), "{reason:?} not in {error:?}");
        }
    }
}
