//! Email from an SES receipt rule (Lambda action, headers only).
//!
//! Who wrote to whom is read from the `From`, `To` and `Cc` headers, not from SES's recipients (which
//! name the capture address). A sender in the organisation's domains is an agent only when SES's
//! DMARC verdict passes, or SPF and DKIM both do; otherwise the mail is a customer message and the
//! spoof is logged. An agent's mail to a team mailbox is a handoff to that team; to a customer, a reply.

use aws_lambda_events::event::ses::{SimpleEmailEvent, SimpleEmailMessage, SimpleEmailRecord, SimpleEmailVerdict};
use jiff::Timestamp;

use super::{CaseRef, Inbound, IngestError, Parsed, Route, Skipped};
use crate::domain::ids::{CaseId, Channel, Identity, MessageRef};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

/// Parses an SES Lambda event (one or more records).
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    let event: SimpleEmailEvent = serde_json::from_value(body.clone()).map_err(IngestError::json("SES event"))?;
    let mut parsed = Parsed::default();
    for record in &event.records {
        parse_record(record, policy, &mut parsed)?;
    }
    Ok(parsed)
}

fn passed(verdict: &SimpleEmailVerdict) -> bool {
    verdict.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("PASS"))
}

fn failed(verdict: &SimpleEmailVerdict) -> bool {
    verdict.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("FAIL"))
}

fn parse_record(record: &SimpleEmailRecord, policy: &Policy, parsed: &mut Parsed) -> Result<(), IngestError> {
    let (mail, receipt) = (&record.ses.mail, &record.ses.receipt);
    if failed(&receipt.spam_verdict) || failed(&receipt.virus_verdict) {
        tracing::info!(ses_message_id = mail.message_id.as_deref().unwrap_or(""), "spam or virus: dropped");
        parsed.skipped.push(Skipped::SpamOrVirus);
        return Ok(());
    }
    if header(mail, "Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")) {
        parsed.skipped.push(Skipped::AutoSubmitted);
        return Ok(());
    }
    if mail.headers_truncated {
        // SES cut the header list: what is missing is taken from commonHeaders below.
        tracing::info!(ses_message_id = mail.message_id.as_deref().unwrap_or(""), "headers truncated by SES");
    }
    let at = Timestamp::from_millisecond(mail.timestamp.timestamp_millis())
        .map_err(|e| IngestError::Invalid(format!("SES mail timestamp out of range: {e}")))?;
    let ses_id = mail.message_id.clone().unwrap_or_default();
    let from = header_addresses(mail, "From")
        .into_iter()
        .next()
        .or_else(|| mail.common_headers.from.first().and_then(|f| parse_addresses(f).into_iter().next()));
    let Some(from) = from else {
        return Err(IngestError::Invalid("mail without a From address".into()));
    };
    let mut recipients = header_addresses(mail, "To");
    if recipients.is_empty() {
        recipients = mail.common_headers.to.iter().flat_map(|t| parse_addresses(t)).collect();
    }
    recipients.extend(header_addresses(mail, "Cc"));

    let message_id = header(mail, "Message-ID").or(mail.common_headers.message_id.clone());
    // A mail without a Message-ID still gets a reference, from SES's id, so replies to it thread.
    let own = vec![MessageRef::email(message_id.as_deref().unwrap_or(&format!("{ses_id}@ses")))];
    let mut thread = Vec::new();
    for name in ["In-Reply-To", "References"] {
        if let Some(value) = header(mail, name) {
            thread.extend(message_ids(&value).into_iter().map(|id| MessageRef::email(&id)));
        }
    }
    thread.reverse(); // the nearest ancestor first
    let subject = header(mail, "Subject").or(mail.common_headers.subject.clone()).unwrap_or_default();
    let tag = subject_tag(&decode(&subject), &policy.case_prefix).map(CaseRef::Id);
    let source = format!("ses:{ses_id}");
    let route = Route { case: tag, thread, own, ..Route::default() };

    let org_sender = policy.is_org_address(&from);
    let authenticated =
        passed(&receipt.dmarc_verdict) || (passed(&receipt.spf_verdict) && passed(&receipt.dkim_verdict));
    if org_sender && !authenticated {
        tracing::warn!(ses_message_id = %ses_id, "mail claims an organisation sender but fails DMARC/SPF+DKIM: treated as a customer message");
    }
    if org_sender && authenticated {
        let team = policy.team_for_mailbox(&from).map(|t| t.id.clone());
        let customers: Vec<&String> = recipients.iter().filter(|r| !policy.is_org_address(r)).collect();
        let handoff_to = recipients
            .iter()
            .filter_map(|r| policy.team_for_mailbox(r))
            .map(|t| t.id.clone())
            .find(|t| Some(t) != team.as_ref());
        if customers.is_empty() && handoff_to.is_none() {
            parsed.skipped.push(Skipped::Internal);
            return Ok(());
        }
        let customer = customers.first().map(|c| Identity::Email((*c).to_ascii_lowercase()));
        let route = Route { customer, ..route };
        if !customers.is_empty() {
            let kind = SignalKind::AgentReply { channel: Channel::Email, team: team.clone(), awaiting_customer: false };
            let source = format!("{source}:reply");
            parsed.inbound.push(Inbound {
                signal: Signal::new(at, source, kind).with_excerpt(Some(&decode(&subject))),
                route: route.clone(),
            });
        }
        if let Some(to) = handoff_to {
            let source = format!("{source}:handoff");
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, SignalKind::Handoff { to }), route });
        }
        return Ok(());
    }

    let identity = Identity::Email(from.to_ascii_lowercase());
    let team =
        recipients.iter().chain(&mail.destination).find_map(|r| policy.team_for_mailbox(r)).map(|t| t.id.clone());
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
    parsed.inbound.push(Inbound {
        signal: Signal::new(at, source, kind).with_excerpt(Some(&decode(&subject))),
        route: Route { customer: Some(identity), team, ..route },
    });
    Ok(())
}

/// The first header of that name (case-insensitive), unfolded.
fn header(mail: &SimpleEmailMessage, name: &str) -> Option<String> {
    mail.headers
        .iter()
        .find(|h| h.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h.value.as_deref())
        .map(|v| v.replace("\r\n", "").replace('\n', ""))
}

fn header_addresses(mail: &SimpleEmailMessage, name: &str) -> Vec<String> {
    mail.headers
        .iter()
        .filter(|h| h.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .filter_map(|h| h.value.as_deref())
        .flat_map(parse_addresses)
        .collect()
}

/// Addresses in an address-list header: `"Muster, Max" <max@example.ch>, other@example.com`.
pub fn parse_addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut part) = (false, false, String::new());
    let mut push = |part: &str| {
        let part = part.trim();
        let address = match (part.rfind('<'), part.rfind('>')) {
            (Some(a), Some(b)) if a < b => &part[a + 1..b],
            _ => part,
        };
        let address = address.trim().trim_matches('"');
        if address.contains('@') && !address.contains(char::is_whitespace) {
            out.push(address.to_ascii_lowercase());
        }
    };
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                push(&part);
                part.clear();
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    push(&part);
    out
}

/// The `<...>` ids in an In-Reply-To or References header.
fn message_ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>').map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.is_empty())
        .collect()
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`); undecodable text is kept as it is.
pub fn decode(value: &str) -> String {
    rfc2047_decoder::decode(value.as_bytes()).unwrap_or_else(|_| value.to_string())
}

/// The case tag `[BTN-XXXXXX]` in a subject.
pub fn subject_tag(subject: &str, prefix: &str) -> Option<CaseId> {
    let opening = format!("[{prefix}-");
    let mut rest = subject;
    while let Some(i) = rest.find(&opening) {
        let candidate = &rest[i + 1..];
        if let Some(end) = candidate.find(']')
            && let Ok(id) = candidate[..end].parse::<CaseId>()
        {
            return Some(id);
        }
        rest = &rest[i + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_from_display_names_and_lists() {
        assert_eq!(
            parse_addresses(r#""Muster, Max" <Max@Example.CH>, talk-to-us@brand.example"#),
            vec!["max@example.ch", "talk-to-us@brand.example"]
        );
        assert!(parse_addresses("undisclosed-recipients:;").is_empty());
    }

    #[test]
    fn subject_tags_are_found_even_when_encoded() {
        let subject = decode("=?UTF-8?Q?Re:_Anzug_[BTN-7K3QF9]_kaputt?=");
        assert_eq!(subject_tag(&subject, "BTN"), Some("BTN-7K3QF9".parse().unwrap()));
        assert_eq!(subject_tag("Re: [BTN-nope] [BTN-7K3QF9]", "BTN"), Some("BTN-7K3QF9".parse().unwrap()));
        assert_eq!(subject_tag("no tag", "BTN"), None);
    }

    #[test]
    fn reference_headers_list_their_ids() {
        assert_eq!(message_ids("<a@x> <b@y>\r\n <c@z>"), vec!["a@x", "b@y", "c@z"]);
    }
}
