//! SES receipt-rule events for the tests, made from the example in AWS's own documentation
//! (`tests/fixtures/field/ses/lambda-action-event-awsdocs.json`): its shape and its other headers,
//! with the sender, recipients, ids and verdicts a test sets.

use serde_json::{Value, json};

/// One mail as a test writes it; `Default` is an authenticated customer mail to talk-to-us@.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// SMTP `MAIL FROM` (SES's `source`); `""` is a bounce's null sender.
    pub envelope: String,
    pub dmarc: &'static str,
    pub spf: &'static str,
    pub dkim: &'static str,
    pub spam: &'static str,
    /// More headers, e.g. `("List-Id", "<news.example.org>")`.
    pub extra: Vec<(String, String)>,
    pub timestamp: String,
    pub ses_id: String,
}

impl Default for Mail {
    fn default() -> Self {
        Self {
            from: "Lea Kunde <lea.kunde@example.ch>".into(),
            to: "talk-to-us@brand.example".into(),
            subject: "Broken zipper".into(),
            message_id: format!("<{}@mail.example.ch>", fastrand::u64(..)),
            in_reply_to: None,
            envelope: "lea.kunde@example.ch".into(),
            dmarc: "PASS",
            spf: "PASS",
            dkim: "PASS",
            spam: "PASS",
            extra: Vec::new(),
            timestamp: "2026-04-13T06:30:00.000Z".into(),
            ses_id: format!("ses{}", fastrand::u64(..)),
        }
    }
}

impl Mail {
    /// The SES Lambda event of this mail.
    pub fn event(&self) -> Value {
        let mut event = super::fixture("field/ses/lambda-action-event-awsdocs.json");
        let ses = &mut event["Records"][0]["ses"];
        let mail = &mut ses["mail"];
        mail["timestamp"] = json!(self.timestamp);
        mail["source"] = json!(self.envelope);
        mail["messageId"] = json!(self.ses_id);
        mail["destination"] = json!(["baton@inbound.brand.example"]);
        // Keep the example's trace headers; replace those a test sets.
        let set = ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Precedence"];
        let mut headers: Vec<Value> = mail["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| !set.iter().any(|n| h["name"].as_str().is_some_and(|name| name.eq_ignore_ascii_case(n))))
            .cloned()
            .collect();
        let mut add = |name: &str, value: &str| headers.push(json!({"name": name, "value": value}));
        add("From", &self.from);
        add("To", &self.to);
        add("Subject", &self.subject);
        add("Message-ID", &self.message_id);
        if let Some(parent) = &self.in_reply_to {
            add("In-Reply-To", parent);
            add("References", parent);
        }
        for (name, value) in &self.extra {
            add(name, value);
        }
        mail["headers"] = Value::Array(headers);
        mail["commonHeaders"] = json!({
            "returnPath": self.envelope, "from": [self.from], "to": [self.to],
            "messageId": self.message_id, "subject": self.subject, "date": "Mon, 13 Apr 2026 06:30:00 +0000"
        });
        let receipt = &mut ses["receipt"];
        receipt["recipients"] = json!(["baton@inbound.brand.example"]);
        receipt["dmarcVerdict"] = json!({"status": self.dmarc});
        receipt["spfVerdict"] = json!({"status": self.spf});
        receipt["dkimVerdict"] = json!({"status": self.dkim});
        receipt["spamVerdict"] = json!({"status": self.spam});
        event
    }
}

/// The SES Lambda event of a raw mail (RFC 5322 text) as SES would hand it over: its headers in
/// order, raw (encoded words as they are, folding kept), with AWS's example around them and passing
/// verdicts. `envelope` is the SMTP `MAIL FROM` (`""` for a bounce).
pub fn raw_event(raw: &[u8], envelope: &str) -> Value {
    let headers = raw_headers(raw);
    let mail = Mail { envelope: envelope.into(), ..Mail::default() };
    let mut event = mail.event();
    let list: Vec<Value> = headers.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    let first = |wanted: &str| {
        headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, value)| value.clone())
    };
    let mail = &mut event["Records"][0]["ses"]["mail"];
    mail["headers"] = Value::Array(list);
    mail["commonHeaders"] = json!({
        "returnPath": envelope,
        "from": first("From").into_iter().collect::<Vec<_>>(),
        "to": first("To").into_iter().collect::<Vec<_>>(),
        "messageId": first("Message-ID"),
        "subject": first("Subject"),
    });
    event
}

/// The header section as (name, value) pairs, the way a mail server splits it: a line that starts
/// with white space continues the header before it (the obsolete syntax even allows lines of
/// white space alone); the name is what stands before the first `:`, trimmed (`From  :`). An mbox
/// `From ` envelope line, which SES never sees, is left out.
fn raw_headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut headers: Vec<(String, String)> = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        // `From  : …` (obsolete spacing) is a header; `From joe@… Fri Feb 19 08:41:30 2010` is not.
        let mbox = line.split_once(':').is_none_or(|(name, _)| name.trim().contains(char::is_whitespace));
        if n == 0 && line.starts_with("From ") && mbox {
            continue;
        }
        if line.starts_with([' ', '\t']) || !line.contains(':') {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str("\r\n");
                value.push_str(line);
            }
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        headers.push((name.trim().to_string(), value.trim_start().to_string()));
    }
    headers
}
