//! The email header parser: arbitrary `Name: value` lines as the headers of an SES event.
#![no_main]

use std::sync::LazyLock;

use baton::domain::policy::Policy;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default_policy);

fuzz_target!(|text: &str| {
    let headers: Vec<_> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| json!({"name": name, "value": value.trim_start()}))
        .collect();
    for header in &headers {
        baton::ingest::email::parse_addresses(header["value"].as_str().unwrap_or_default());
    }
    let event = json!({"Records": [{
        "eventSource": "aws:ses",
        "eventVersion": "1.0",
        "ses": {
            "mail": {
                "timestamp": "2026-04-13T08:00:00.000Z",
                "source": "someone@example.net",
                "messageId": "fuzz0000000000000000000000000000000000",
                "destination": ["baton@inbound.brand.example"],
                "headersTruncated": false,
                "headers": headers,
                "commonHeaders": {"returnPath": "someone@example.net"}
            },
            "receipt": {
                "timestamp": "2026-04-13T08:00:00.000Z",
                "recipients": ["baton@inbound.brand.example"],
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "PASS"},
                "spfVerdict": {"status": "PASS"},
                "dkimVerdict": {"status": "PASS"},
                "dmarcVerdict": {"status": "PASS"},
                "action": {"type": "Lambda", "functionArn": "arn:aws:lambda:eu-west-1:1:function:f", "invocationType": "Event"}
            }
        }
    }]});
    let _ = baton::ingest::email::parse(&event, &POLICY);
});
