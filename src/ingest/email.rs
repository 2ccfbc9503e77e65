//! Email from an SES receipt rule (Lambda action, headers only).
//!
//! Who wrote to whom is read from the `From`, `To` and `Cc` headers, not from SES's recipients (which
//! name the capture address), by an RFC 5322 parser (`mailparse`): display names, quoted strings,
//! comments and groups. A mail with no usable From, or with more than one From address, is skipped
//! and counted.
//!
//! A sender in the organisation's domains is an agent only when SES's DMARC verdict is PASS: DMARC
//! checks that SPF or DKIM is aligned with the From domain, while SPF and DKIM passing for some other
//! domain prove nothing about the From address. Otherwise the mail is a customer message and the
//! spoof is logged. An agent's mail to a team mailbox is a handoff to that team; to a customer, a
//! reply.
//!
//! A customer's mail is *authenticated* when its From address is vouched for by its own domain
//! (DMARC PASS; where that domain publishes no DMARC policy, SPF PASS with the envelope sender in the
//! From domain). Only an authenticated mail may follow a case tag to a case that does not already
//! hold its sender, or reopen a closed one (see [`Route::sender`]), and only an authenticated,
//! non-spam, personal mail is acknowledged.

use std::borrow::Cow;

use aws_lambda_events::event::ses::{SimpleEmailEvent, SimpleEmailMessage, SimpleEmailRecord, SimpleEmailVerdict};
use jiff::Timestamp;
use mailparse::{MailAddr, addrparse};

use super::{Inbound, IngestError, NoAck, Parsed, Route, Sender, Skipped};
use crate::domain::ids::{CaseId, Channel, Identity, MessageRef};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

/// Parses an SES Lambda event (one or more records).
pub fn parse(body: &serde_json::Value, policy: &Policy) -> Result<Parsed, IngestError> {
    use serde::Deserialize;
    parse_event(&SimpleEmailEvent::deserialize(body).map_err(IngestError::json("SES event"))?, policy)
}

/// [`parse`] from the event's JSON text, read straight into the typed event.
pub fn parse_str(body: &str, policy: &Policy) -> Result<Parsed, IngestError> {
    parse_event(&serde_json::from_str(body).map_err(IngestError::json("SES event"))?, policy)
}

/// [`parse`] from the event already read into its type.
pub fn parse_event(event: &SimpleEmailEvent, policy: &Policy) -> Result<Parsed, IngestError> {
    let mut parsed = Parsed::default();
    for record in &event.records {
        parse_record(record, policy, &mut parsed)?;
    }
    Ok(parsed)
}

fn status_is(verdict: &SimpleEmailVerdict, status: &str) -> bool {
    verdict.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(status))
}

/// What SES's verdicts say of the From address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verdicts {
    /// DMARC PASS: SPF or DKIM aligned with the From domain.
    dmarc: bool,
    /// The From address is vouched for by its own domain: DMARC PASS, or, where the domain publishes
    /// no DMARC policy (SES says GRAY), SPF PASS for an envelope sender in the From domain.
    authenticated: bool,
    spam_pass: bool,
}

impl Verdicts {
    fn of(mail: &SimpleEmailMessage, receipt: &aws_lambda_events::event::ses::SimpleEmailReceipt, from: &str) -> Self {
        let dmarc = status_is(&receipt.dmarc_verdict, "PASS");
        let no_dmarc_policy = status_is(&receipt.dmarc_verdict, "GRAY");
        let aligned_spf = status_is(&receipt.spf_verdict, "PASS")
            && envelope_sender(mail).is_some_and(|envelope| same_domain(&envelope, from));
        Self {
            dmarc,
            authenticated: dmarc || (no_dmarc_policy && aligned_spf),
            spam_pass: status_is(&receipt.spam_verdict, "PASS"),
        }
    }
}

/// The envelope sender (SMTP `MAIL FROM`, SES's `source`), or `None` for the null sender of a bounce.
fn envelope_sender(mail: &SimpleEmailMessage) -> Option<String> {
    let source = mail.source.as_deref()?.trim().trim_start_matches('<').trim_end_matches('>');
    (!source.is_empty()).then(|| source.to_ascii_lowercase())
}

/// Whether two addresses are in the same domain (or the envelope's is a subdomain of the From's).
fn same_domain(envelope: &str, from: &str) -> bool {
    let domain = |a: &str| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    match (domain(envelope), domain(from)) {
        (Some(e), Some(f)) => e == f || e.ends_with(&format!(".{f}")),
        _ => false,
    }
}

fn parse_record(record: &SimpleEmailRecord, policy: &Policy, parsed: &mut Parsed) -> Result<(), IngestError> {
    let (mail, receipt) = (&record.ses.mail, &record.ses.receipt);
    let ses_id = mail.message_id.clone().unwrap_or_default();
    if status_is(&receipt.spam_verdict, "FAIL") || status_is(&receipt.virus_verdict, "FAIL") {
        tracing::info!(ses_message_id = %ses_id, "spam or virus: dropped");
        parsed.skipped.push(Skipped::SpamOrVirus);
        return Ok(());
    }
    if header(mail, "Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")) {
        parsed.skipped.push(Skipped::AutoSubmitted);
        return Ok(());
    }
    if mail.headers_truncated {
        // SES cut the header list: what is missing is taken from commonHeaders below.
        tracing::info!(ses_message_id = %ses_id, "headers truncated by SES");
    }
    let at = Timestamp::from_millisecond(mail.timestamp.timestamp_millis())
        .map_err(|e| IngestError::Invalid(format!("SES mail timestamp out of range: {e}")))?;
    let from = match sender(mail) {
        Ok(from) => from,
        Err(why) => {
            tracing::info!(ses_message_id = %ses_id, reason = why, "mail skipped: no single usable From address");
            parsed.skipped.push(Skipped::Unusable(why));
            return Ok(());
        }
    };
    let mut recipients = header_addresses(mail, "To");
    if recipients.is_empty() {
        recipients = mail.common_headers.to.iter().flat_map(|t| addresses(t).unwrap_or_default()).collect();
    }
    recipients.extend(header_addresses(mail, "Cc"));

    let own_id = header(mail, "Message-ID")
        .or(mail.common_headers.message_id.clone())
        .and_then(|value| message_ids(&value).into_iter().next())
        // A mail without a Message-ID still gets a reference, from SES's id, so replies to it thread.
        .unwrap_or_else(|| format!("{ses_id}@ses"));
    let own = vec![MessageRef::email(&own_id)];
    let mut thread = Vec::new();
    for name in ["In-Reply-To", "References"] {
        for value in all_headers(mail, name) {
            thread.extend(message_ids(&value).into_iter().map(|id| MessageRef::email(&id)));
        }
    }
    thread.reverse(); // the nearest ancestor first
    let subject = decode(&header(mail, "Subject").or(mail.common_headers.subject.clone()).unwrap_or_default());
    let tag = subject_tag(&subject, &policy.case_prefix);
    let source = format!("ses:{ses_id}");
    let verdicts = Verdicts::of(mail, receipt, &from);
    let route = Route { tag, thread, own, ..Route::default() };

    let org_sender = policy.is_org_address(&from);
    if org_sender && !verdicts.dmarc {
        tracing::warn!(ses_message_id = %ses_id, "mail claims an organisation sender but DMARC did not pass: treated as a customer message");
    }
    if org_sender && verdicts.dmarc {
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
        let customer = customers.first().map(|c| Identity::Email((*c).clone()));
        let sender = Sender::Mail { authenticated: true, no_ack: Some(NoAck::Agent) };
        let route = Route { customer, sender, ..route };
        if !customers.is_empty() {
            let kind = SignalKind::AgentReply { channel: Channel::Email, team: team.clone(), awaiting_customer: false };
            let source = format!("{source}:reply");
            parsed.inbound.push(Inbound {
                signal: Signal::new(at, source, kind).with_excerpt(Some(&subject)),
                route: route.clone(),
            });
        }
        if let Some(to) = handoff_to {
            let source = format!("{source}:handoff");
            parsed.inbound.push(Inbound { signal: Signal::new(at, source, SignalKind::Handoff { to }), route });
        }
        return Ok(());
    }

    let identity = Identity::Email(from.clone());
    let team =
        recipients.iter().chain(&mail.destination).find_map(|r| policy.team_for_mailbox(r)).map(|t| t.id.clone());
    let sender = Sender::Mail { authenticated: verdicts.authenticated, no_ack: no_ack(mail, verdicts) };
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
    parsed.inbound.push(Inbound {
        signal: Signal::new(at, source, kind).with_excerpt(Some(&subject)),
        route: Route { customer: Some(identity), team, sender, ..route },
    });
    Ok(())
}

/// Why a customer's mail gets no acknowledgement, if it gets none: an acknowledgement goes from the
/// brand's domain to the From address, so it must go only to a person who wrote, from their own
/// address, and not to a spoofed, bulk, list or bounce sender.
fn no_ack(mail: &SimpleEmailMessage, verdicts: Verdicts) -> Option<NoAck> {
    let precedence = header(mail, "Precedence").map(|p| p.trim().to_ascii_lowercase());
    if envelope_sender(mail).is_none() {
        Some(NoAck::Bounce)
    } else if !verdicts.spam_pass {
        Some(NoAck::NotSpamChecked)
    } else if !verdicts.authenticated {
        Some(NoAck::Unauthenticated)
    } else if header(mail, "List-Id").is_some() || matches!(precedence.as_deref(), Some("bulk" | "list" | "junk")) {
        Some(NoAck::Bulk)
    } else {
        None
    }
}

/// The one address of the `From` header (or SES's common header when the list lacks it).
fn sender(mail: &SimpleEmailMessage) -> Result<String, &'static str> {
    let headers: Vec<Cow<str>> = all_headers(mail, "From").collect();
    let values: Vec<&str> = if headers.is_empty() {
        mail.common_headers.from.iter().map(String::as_str).collect()
    } else {
        headers.iter().map(|v| v.as_ref()).collect()
    };
    let mut found = Vec::new();
    for value in values {
        found.extend(addresses(value).map_err(|_| "the From header is unreadable")?);
    }
    found.dedup();
    match found.as_slice() {
        [] => Err("no From address"),
        [one] => Ok(one.clone()),
        _ => Err("more than one From address"),
    }
}

/// Every value of a header (case-insensitive name), unfolded (a value without line breaks is
/// borrowed as it is).
fn all_headers<'a>(mail: &'a SimpleEmailMessage, name: &'a str) -> impl Iterator<Item = Cow<'a, str>> {
    mail.headers
        .iter()
        .filter(move |h| h.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .filter_map(|h| h.value.as_deref())
        .map(unfold)
}

/// A header value without its line breaks (folding); one without any is borrowed as it is.
fn unfold(value: &str) -> Cow<'_, str> {
    if value.contains(['\r', '\n']) { Cow::Owned(value.replace(['\r', '\n'], "")) } else { Cow::Borrowed(value) }
}

/// The first header of that name (case-insensitive), unfolded.
fn header(mail: &SimpleEmailMessage, name: &str) -> Option<String> {
    all_headers(mail, name).next().map(Cow::into_owned)
}

/// The addresses of every header of that name; an unreadable header adds none.
fn header_addresses(mail: &SimpleEmailMessage, name: &str) -> Vec<String> {
    all_headers(mail, name).flat_map(|v| addresses(&v).unwrap_or_default()).collect()
}

/// The addresses of an address-list header, as RFC 5322 reads it (display names, quoted strings,
/// comments, groups), lowercased; an address without a local part or a domain is left out.
pub fn addresses(value: &str) -> Result<Vec<String>, mailparse::MailParseError> {
    let mut out = Vec::new();
    let mut push = |addr: &str| {
        // The obsolete syntax allows comments and white space around the dots and the `@` of an
        // address (`<pete(his account)@silly.test(his host)>`, RFC 5322 appendix A.6.3), which the
        // parser leaves in the address: take them out.
        let Some(addr) = obsolete_spaces_out(&without_comments(addr)) else { return };
        if let Some((local, domain)) = addr.rsplit_once('@')
            && !local.is_empty()
            && !domain.is_empty()
            && (addr.matches('@').count() == 1 || local.starts_with('"'))
        {
            out.push(addr.to_ascii_lowercase());
        }
    };
    for entry in addrparse(value)?.iter() {
        match entry {
            MailAddr::Single(single) => push(&single.addr),
            MailAddr::Group(group) => group.addrs.iter().for_each(|single| push(&single.addr)),
        }
    }
    Ok(out)
}

/// An address without the white space the obsolete syntax allows around its dots and `@`
/// (`jdoe@machine.  example`), or `None` when white space stands anywhere else
/// (`tim@a.example concierge@a.example` is two addresses, not one).
fn obsolete_spaces_out(addr: &str) -> Option<String> {
    let mut out = String::new();
    for word in addr.split_whitespace() {
        let joins = out.is_empty() || out.ends_with(['.', '@']) || word.starts_with(['.', '@']);
        if !joins {
            return None;
        }
        out.push_str(word);
    }
    Some(out)
}

/// The addresses of an address-list header; an unreadable header has none (see [`addresses`]).
pub fn parse_addresses(value: &str) -> Vec<String> {
    addresses(value).unwrap_or_default()
}

/// The message ids of a `Message-ID`, `In-Reply-To` or `References` header, read the same way for a
/// mail's own id and for the ids it refers to, so that a reply finds its thread: the `<…>` ids, with
/// comments (`<id> (added by postmaster@…)`) and folding removed; for a legacy id written without
/// brackets, the words that hold `@`. No whitespace or control character (CR, LF) survives, so an id
/// echoed into a header cannot add one.
pub fn message_ids(value: &str) -> Vec<String> {
    let text = without_comments(value);
    let clean = |id: &str| id.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>();
    let bracketed: Vec<String> = text
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>').map(|(id, _)| clean(id)))
        .filter(|id| !id.is_empty())
        .collect();
    if !bracketed.is_empty() {
        return bracketed;
    }
    text.split_whitespace().filter(|w| w.contains('@')).map(clean).collect()
}

/// The text without its RFC 5322 comments (parenthesised, nested, with `\` escapes), except inside
/// quoted strings. Comments inside `<…>` go too: the obsolete syntax allows them there
/// (`<1234 @ local(blah) .machine .example>`, RFC 5322 appendix A.6.3).
fn without_comments(value: &str) -> Cow<'_, str> {
    // Without a `(` there is no comment, and every character is kept.
    if value.contains('(') { Cow::Owned(strip_comments(value)) } else { Cow::Borrowed(value) }
}

fn strip_comments(value: &str) -> String {
    let (mut out, mut depth, mut quoted, mut escaped) = (String::new(), 0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '(' if !quoted => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`); undecodable text is kept as it is.
pub fn decode(value: &str) -> String {
    // Text with no `=?` holds no encoded word: it is all clear text, which the decoder returns as it is.
    if !value.contains("=?") {
        return value.to_string();
    }
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
    fn comments_and_groups_are_read_as_rfc_5322_says() {
        assert_eq!(parse_addresses("max@example.ch (Max Muster)"), vec!["max@example.ch"]);
        // A comment that holds an address is a comment, not the address.
        assert_eq!(parse_addresses("attacker@evil.example (<agent@brand.example>)"), vec!["attacker@evil.example"]);
        // RFC 5322, appendix A.1.3.
        assert_eq!(
            parse_addresses("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"),
            vec!["c@a.test", "joe@where.test", "jdoe@one.test"]
        );
        assert!(parse_addresses("Undisclosed recipients:;").is_empty());
        assert_eq!(parse_addresses("=?UTF-8?Q?M=C3=BCller?= <mueller@example.de>"), vec!["mueller@example.de"]);
        assert!(parse_addresses("<>").is_empty());
        // RFC 5322, appendix A.6.3: the obsolete syntax's comments inside an address.
        assert_eq!(
            parse_addresses("Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>"),
            vec!["pete@silly.test"]
        );
        assert_eq!(parse_addresses("John Doe <jdoe@machine(comment).  example>"), vec!["jdoe@machine.example"]);
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

    #[test]
    fn a_mails_own_id_and_a_replys_reference_read_the_same() {
        let own = message_ids("<4E1D.2@lists.example> (added by postmaster@lists.example)");
        let reply = message_ids("<4E1D.2@lists.example>");
        assert_eq!(own, reply);
        assert_eq!(message_ids("(comment) <a@x>"), vec!["a@x"]);
        assert_eq!(message_ids("legacy-id@host.example"), vec!["legacy-id@host.example"]);
        assert_eq!(message_ids("<a\r\nb@x>"), vec!["ab@x"]);
        assert!(message_ids("(only a comment)").is_empty());
        assert_eq!(message_ids("<1234   @   local(blah)  .machine .example>"), vec!["1234@local.machine.example"]);
    }

    /// Texts with neither `(` nor `=?`: both shortcuts take them. Quotes, escapes, a lone `)`, `?=`,
    /// tabs, folding and non-ASCII text included.
    const PLAIN: [&str; 10] = [
        "",
        "Order 100000: parcel arrived damaged",
        r#""Muster, Max" <max@example.ch>"#,
        r#"a \"quoted\" \\ back\)slash) and ?= and = and ?"#,
        "tabs\tand  two spaces ",
        "folded\r\n continued",
        "Grüße aus Zürich – 東京",
        "?= first, then = ?",
        "<a@x> <b@y>",
        ")",
    ];

    #[test]
    fn text_without_encoded_words_is_decoded_as_the_decoder_decodes_it() {
        for text in PLAIN {
            let decoder = rfc2047_decoder::decode(text.as_bytes()).unwrap_or_else(|_| text.to_string());
            assert_eq!(decode(text), decoder, "{text}");
        }
        // And encoded words still go to the decoder.
        assert_eq!(decode("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Z\u{fc}rich"), "Grüße aus Zürich");
    }

    #[test]
    fn text_without_a_comment_is_kept_as_the_comment_stripper_keeps_it() {
        for text in PLAIN.into_iter().filter(|t| !t.contains('(')) {
            assert!(matches!(without_comments(text), Cow::Borrowed(_)), "{text}");
            assert_eq!(strip_comments(text), text);
        }
        assert_eq!(without_comments("a (b) c"), "a  c");
    }

    #[test]
    fn header_values_unfold_as_they_did_before_the_shortcut() {
        let before = |v: &str| v.replace("\r\n", "").replace(['\r', '\n'], "");
        let folded = ["a\r\n b", "a\n\tb", "a\rb", "\r\n\r\n", "a\n\r b", "end\r"];
        for value in PLAIN.into_iter().chain(folded) {
            assert_eq!(unfold(value), before(value), "{value:?}");
            assert_eq!(matches!(unfold(value), Cow::Borrowed(_)), !value.contains(['\r', '\n']), "{value:?}");
        }
    }
}
