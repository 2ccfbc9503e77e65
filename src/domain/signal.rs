//! Signals: what ingest makes of a source event, and what the engine consumes.
//!
//! Every signal carries its source id (for dedupe: `ses:<messageId>`, `x:<tweet id>`, ...) and the
//! instant it happened at the source, not the instant Baton received it.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::clock::ClockKind;
use super::duration::PolicyDuration;
use super::ids::{Channel, Identity, MessageRef, Priority, TeamId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub at: Timestamp,
    /// Shared text: the event the signal becomes and the store's dedupe entry hold the same one.
    pub source: Arc<str>,
    pub kind: SignalKind,
    /// The start of the message's text (an email's subject), as the source gave it. The service cuts
    /// it to the policy's `data.excerpt_chars` before anything is stored; the body is never kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The references of the message itself (`email:<Message-ID>`, `x:<id>`, ...), which point at
    /// its case: kept on the timeline so that erasing or deleting a case finds them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<MessageRef>,
    /// Who made the call, for a case API call: the caller's IAM ARN from API Gateway's request
    /// context (never something the caller wrote in the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// For a case API call made with an `Idempotency-Key`: the fingerprint of its route and body, so
    /// that the same key on another request is told from a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl Signal {
    pub fn new(at: Timestamp, source: impl Into<Arc<str>>, kind: SignalKind) -> Self {
        Self { at, source: source.into(), kind, excerpt: None, refs: Vec::new(), by: None, request: None }
    }

    pub fn with_excerpt(mut self, text: Option<&str>) -> Self {
        self.excerpt = text.filter(|t| !t.trim().is_empty()).map(|t| t.chars().take(MAX_EXCERPT_CHARS).collect());
        self
    }
}

/// The most a parser takes of a message's text, whatever the policy: the policy's excerpt is cut from it.
pub const MAX_EXCERPT_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalKind {
    /// The customer wrote, privately or in public.
    CustomerMessage { channel: Channel, public: bool, identity: Identity },
    /// A reply the customer sees, from a team if Baton can tell which.
    AgentReply {
        channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<TeamId>,
        /// The reply asks the customer something: the case waits for them, and the clocks that
        /// measure our silence stop until they answer.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        awaiting_customer: bool,
    },
    /// A note only the teams see.
    InternalNote {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<TeamId>,
    },
    /// The case is handed to another team, which becomes its owner.
    Handoff { to: TeamId },
    /// The receiving team takes up a handed-off case.
    Accept { team: TeamId },
    /// A resolution was proposed to the customer; the confirmation window starts.
    ResolutionProposed,
    /// The customer says the matter is settled.
    CustomerConfirmation,
    /// The customer says it is not solved: the case reopens.
    CustomerRejection,
    /// Another identity of the same customer (say, their X account for an email case).
    Link { identity: Identity },
    /// A lead acknowledges an alert: steps up to `level` of `clock` are silenced for `snooze`.
    Acknowledge { clock: ClockKind, level: u8, by: String, snooze: PolicyDuration },
    /// A satisfaction survey or rating request was sent.
    SurveyRequested { channel: Channel },
    /// The case's priority changes: the running clocks take that priority's targets, keeping the
    /// time they have used.
    PriorityChange { priority: Priority },
}

impl SignalKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CustomerMessage { .. } => "customer_message",
            Self::AgentReply { .. } => "agent_reply",
            Self::InternalNote { .. } => "internal_note",
            Self::Handoff { .. } => "handoff",
            Self::Accept { .. } => "accept",
            Self::ResolutionProposed => "resolution_proposed",
            Self::CustomerConfirmation => "customer_confirmation",
            Self::CustomerRejection => "customer_rejection",
            Self::Link { .. } => "link",
            Self::Acknowledge { .. } => "acknowledge",
            Self::SurveyRequested { .. } => "survey_requested",
            Self::PriorityChange { .. } => "priority_change",
        }
    }
}
