//! Ingest: turns source events (SES mail, Meta and X webhook bodies, case API calls) into signals,
//! each with the hints needed to find its case. The parsers are pure; the functions and the replay
//! share them.

pub mod api;
pub mod email;
pub mod meta;
pub mod signature;
pub mod webhook;
pub mod x;

use crate::domain::ids::{CaseId, Identity, MessageRef, TeamId};
use crate::domain::signal::Signal;

/// A signal and how to find its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub signal: Signal,
    pub route: Route,
}

/// Where a signal belongs, most specific first: an explicit case, a thread, the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// A case named outright: a subject tag `[BTN-…]` or the `{case}` of an API path.
    pub case: Option<CaseRef>,
    /// Earlier messages this one answers (In-Reply-To, References, a tweet's reply-to, a parent comment).
    pub thread: Vec<MessageRef>,
    /// The customer, whose open case this belongs to if nothing else says.
    pub customer: Option<Identity>,
    /// This message's own references, recorded so later messages thread to the case.
    pub own: Vec<MessageRef>,
    /// The team a new case belongs to (the mailbox written to, the page or account's team).
    pub team: Option<TeamId>,
}

/// A case named by id or by any message reference it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRef {
    Id(CaseId),
    Message(MessageRef),
}

impl std::str::FromStr for CaseRef {
    type Err = crate::domain::ids::IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<CaseId>() {
            Ok(id) => Ok(Self::Id(id)),
            Err(_) => text.parse::<MessageRef>().map(Self::Message),
        }
    }
}

/// Why an entry of a source event became no signal. Counted, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// SES said spam or virus: FAIL.
    SpamOrVirus,
    /// Mail among the organisation's own addresses, with no customer and no team mailbox.
    Internal,
    /// The brand's own post that answers nobody, a retweet, a read receipt, ...
    NotAboutACase(&'static str),
    /// An event type Baton does not use.
    UnknownType(String),
    /// An automatic mail (`Auto-Submitted`, RFC 3834): an out-of-office reply, or Baton's own
    /// acknowledgement coming back through the capture address. Nobody wrote it; no clock moves.
    AutoSubmitted,
}

/// What one source event yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub inbound: Vec<Inbound>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("malformed {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl IngestError {
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Json { what, source }
    }
}
