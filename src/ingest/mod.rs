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
    /// A case the message names itself (an email's subject tag `[BTN-…]`). Unlike [`Route::case`], it
    /// is a hint: followed when it leads to a case this sender may write to (see [`Sender`]); a tag
    /// that names no case (a typo, a purged case) or one the sender may not join is passed over, and
    /// the message routes by its thread and its customer, else opens a case of its own. A customer
    /// message is never dropped for its tag.
    pub tag: Option<CaseId>,
    /// How far the sender is known to be who the message says.
    pub sender: Sender,
}

/// How far the sender of a message is known to be who it claims to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sender {
    /// Vouched for by the source: a signed platform delivery, an authorised API call.
    #[default]
    Vouched,
    /// An email. `authenticated`: its From address is vouched for by its own domain (DMARC, or SPF
    /// aligned where the domain publishes no DMARC policy). An unauthenticated mail's tag leads only
    /// to an open case that already holds its sender: a stranger who writes `[BTN-…]` in a subject
    /// neither joins that customer's case (and a later erasure of it) nor reopens it. `no_ack`: why
    /// it gets no automatic acknowledgement, if it gets none.
    Mail { authenticated: bool, no_ack: Option<NoAck> },
}

/// Why a mail gets no automatic acknowledgement (each counted by the email function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoAck {
    /// The brand's own mail.
    Agent,
    /// The null envelope sender of a bounce.
    Bounce,
    /// SES's spam verdict is not PASS.
    NotSpamChecked,
    /// The From address is not authenticated for its own domain: it may be spoofed.
    Unauthenticated,
    /// Bulk or list mail (`Precedence: bulk|list|junk`, `List-Id`).
    Bulk,
    /// Past the limit of acknowledgements per address or per domain.
    RateLimited,
}

impl Sender {
    /// Whether this sender may follow a tag to `case`: a vouched or authenticated sender may; an
    /// unauthenticated one only to an open case that already holds `customer`.
    pub fn may_follow_tag(&self, case: &crate::domain::case::Case, customer: Option<&Identity>) -> bool {
        match self {
            Self::Vouched | Self::Mail { authenticated: true, .. } => true,
            Self::Mail { authenticated: false, .. } => {
                !case.is_closed() && customer.is_some_and(|c| case.identities().contains(c))
            }
        }
    }
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
    /// A mail with no single usable From address (none, a `<>` bounce, several, unreadable).
    Unusable(&'static str),
    /// An entry of a delivery that cannot be read (a field missing or of the wrong type): the rest of
    /// the delivery is applied. The reason names the entry and the field, never its values.
    Unreadable(String),
}

/// What one source event yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub inbound: Vec<Inbound>,
    pub skipped: Vec<Skipped>,
    /// Messages the platform says were deleted: their excerpts are erased (the timing stays).
    pub deleted: Vec<MessageRef>,
}

/// What one entry of a delivery came to: its signal, or why it is skipped; the outer error is why
/// it could not be read.
pub type EntryResult = Result<Result<Inbound, Skipped>, String>;

impl Parsed {
    /// Takes one entry's result (`what` names the entry, for an unreadable one's reason).
    pub fn entry(&mut self, what: impl FnOnce() -> String, entry: EntryResult) {
        match entry {
            Ok(Ok(inbound)) => self.inbound.push(inbound),
            Ok(Err(skipped)) => self.skipped.push(skipped),
            Err(why) => self.skipped.push(unreadable(&what(), why)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("malformed {what}: {}", redact(&source.to_string()))]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// An entry that cannot be read, with where it is and why, without the values it holds: serde's
/// reasons quote the offending value (`invalid type: string "max@example.ch"`), which may be an
/// address or a message, so quoted text is cut out.
pub fn unreadable(what: &str, why: impl std::fmt::Display) -> Skipped {
    Skipped::Unreadable(format!("{what}: {}", redact(&why.to_string())))
}

/// A reason with its quoted parts (`"…"`, and serde's `` `…` `` quotes of values) replaced by `…`;
/// field names serde quotes in backticks are kept when they look like field names.
pub fn redact(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else {
            out.push('…');
            return out;
        };
        let inner = &after[..end];
        let field_name = quote == '`'
            && inner.len() <= 40
            && inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if field_name {
            out.push_str(&rest[start..start + end + 2]);
        } else {
            out.push('…');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

impl IngestError {
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Json { what, source }
    }
}
