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
