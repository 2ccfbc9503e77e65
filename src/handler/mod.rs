//! The functions' handlers, one per entry point, over plain `http` types and JSON events so that
//! they are tested by calling them directly; the crates in `functions/` only wire them to the Lambda
//! runtime. Each answers a rejected request with a 4xx and a JSON reason, stores nothing for it, and
//! logs the cause without message bodies.

pub mod api;
pub mod email;
pub mod link;
pub mod sweep;
pub mod webhook;

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::ingest::Skipped;
use crate::service::Outcome;

/// The largest body accepted: Meta batches up to 1,000 events in a delivery, which can pass 256 KB;
/// API Gateway allows 10 MB and Lambda 6 MB.
pub const MAX_BODY: usize = 1024 * 1024;

pub fn json_response(status: StatusCode, body: &Value) -> Response<String> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .expect("a valid response")
}

/// A 4xx or 5xx with `{"error": reason}`; the reason is logged (never the body).
pub fn error(status: StatusCode, reason: impl std::fmt::Display) -> Response<String> {
    let reason = reason.to_string();
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), %reason, "request failed");
    } else {
        tracing::warn!(status = status.as_u16(), %reason, "request rejected");
    }
    json_response(status, &json!({ "error": reason }))
}

/// What a delivery's entries came to.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Applied to a case (opened or joined).
    pub applied: usize,
    /// Cases opened.
    pub opened: usize,
    /// Delivered before: no second effect.
    pub duplicates: usize,
    /// Entries that became no signal, or signals with no case to go to, or refused by the rules.
    pub ignored: usize,
    /// Entries of a delivery that could not be read (also in `ignored`): the rest was applied.
    #[serde(skip_serializing_if = "is_zero")]
    pub unreadable: usize,
    /// Deleted messages whose excerpts were erased.
    #[serde(skip_serializing_if = "is_zero")]
    pub erased: usize,
    /// Automatic acknowledgements sent, and withheld (spoofable, spam, bulk, list, bounce, or past
    /// the limits).
    #[serde(skip_serializing_if = "is_zero")]
    pub acks_sent: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub acks_withheld: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Tally {
    pub fn skipped(&mut self, skipped: &[Skipped]) {
        for s in skipped {
            tracing::info!(reason = ?s, "entry skipped");
            self.unreadable += usize::from(matches!(s, Skipped::Unreadable(_)));
        }
        self.ignored += skipped.len();
    }

    pub fn outcome(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Applied { opened, measures, .. } => {
                self.applied += 1;
                self.opened += usize::from(*opened);
                crate::metrics::print_measures(measures);
            }
            Outcome::Duplicate => self.duplicates += 1,
            other => {
                tracing::info!(outcome = ?other, "signal not applied");
                self.ignored += 1;
            }
        }
    }
}
