//! The case item as DynamoDB holds it: the stored schema, kept apart from the domain's [`Case`] so
//! that either can change without the other. Items written since 2026 load through it (see
//! `tests/stored.rs`, which loads items kept from then); a change here must keep them loading.
//!
//! Two forms of the same record load:
//! - **compact** (written since issue 19): the record as JSON, deflated, in the one binary attribute
//!   [`COMPACT`] behind a format byte. A transactional write costs 2 units per KB of the item, and the
//!   record with its recent events is 1.5 to 2 KB as attributes, 0.5 to 0.8 KB deflated: one KB step
//!   instead of two, for every signal. The keys and what conditions and indexes read (`version`,
//!   `events`, the due and open keys) stay attributes of their own.
//! - **attributes** (written before): every field an attribute of the item.

use serde::{Deserialize, Serialize};

use crate::domain::case::{Case, CaseParts, CaseState, CloseReason, Event, Stopped};
use crate::domain::clock::{Clock, ClockKind};
use crate::domain::ids::{CaseId, Channel, Identity, Priority, TeamId};
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

/// The case item's attribute holding its compact record.
pub const COMPACT: &str = "c";

/// The compact record's first byte: its format. 1 is JSON deflated (RFC 1951, no header).
const DEFLATED_JSON: u8 = 1;

/// The most bytes a compact record inflates to: far above any case item (400 KB at most), so a
/// damaged attribute cannot make a reader allocate without bound.
const MAX_INFLATED: u64 = 16 << 20;

/// The case item's attributes beside the keys, `events` (the count) and the due keys. `omitted`
/// is not stored: it is the count less the events the item carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    id: CaseId,
    /// Bumped by every write; the store's optimistic lock.
    version: u64,
    state: CaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    close_reason: Option<CloseReason>,
    priority: Priority,
    /// The priority the case opened with (needed to rebuild it; a change is on the timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_priority: Option<Priority>,
    /// The team that owned the case when it opened (needed to rebuild it).
    first_owner: TeamId,
    owner: TeamId,
    owner_since: Timestamp,
    opened_at: Timestamp,
    channels: BTreeSet<Channel>,
    identities: BTreeSet<Identity>,
    /// Time each team held the case before the current owner took it (calendar time).
    held: BTreeMap<TeamId, SignedDuration>,
    clocks: BTreeMap<ClockKind, Clock>,
    first_response_done: bool,
    /// The earliest customer message that has no answer yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waiting_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_customer_channel: Option<Channel>,
    /// Whether the customer's last message was public (targets follow it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    last_customer_public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_reply_at: Option<Timestamp>,
    follow_ups: u32,
    channel_hops: u32,
    public_posts: u32,
    /// Closures already warned about, by their start.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    closure_warnings: BTreeSet<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merged_into: Option<CaseId>,
    /// The case this one went on in when it was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    continued_in: Option<CaseId>,
    /// The full case this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    continues: Option<CaseId>,
    /// Clocks that breached and stopped, whose `cleared` alert is still to be raised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cleared: Vec<Stopped>,
    /// The start of the business day of the case's last reminder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reminded: Option<Timestamp>,
    /// When the engine next has something to do for this case (the due index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_due: Option<Timestamp>,
    /// The timeline in order (see [`Event::order`]): all of it, or, for a case loaded without its
    /// history, the recent events, with `omitted` counting the others.
    pub(super) timeline: Vec<Event>,
    /// How many events of the timeline were not loaded. Rules that need the past (placing a late
    /// event, merging) need the whole timeline: load it first.
    #[serde(skip)]
    omitted: u64,
    /// The version whose write replaced the whole stored timeline (an erasure), if any: the store
    /// ignores timeline items written before it.
    #[serde(default, skip_serializing_if = "is_zero")]
    timeline_from: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl CaseRecord {
    /// The record in its compact form: the format byte, then its JSON deflated.
    pub fn compact(&self) -> Result<Vec<u8>, String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let mut encoder = flate2::write::DeflateEncoder::new(vec![DEFLATED_JSON], flate2::Compression::best());
        encoder.write_all(&json).map_err(|e| e.to_string())?;
        encoder.finish().map_err(|e| e.to_string())
    }

    /// A record from its compact form, at the item's `version` (the attribute the store's
    /// conditions read is the one that counts).
    pub fn from_compact(bytes: &[u8], version: u64) -> Result<Self, String> {
        let Some((&DEFLATED_JSON, deflated)) = bytes.split_first() else {
            return Err(format!("unknown compact record format {:?}", bytes.first()));
        };
        let mut json = Vec::with_capacity(deflated.len() * 4);
        flate2::read::DeflateDecoder::new(deflated)
            .take(MAX_INFLATED)
            .read_to_end(&mut json)
            .map_err(|e| format!("inflating the compact record: {e}"))?;
        let mut record: CaseRecord = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
        record.version = version;
        Ok(record)
    }

    pub fn of(case: Case) -> Self {
        let parts = case.into_parts();
        Self {
            id: parts.id,
            version: parts.version,
            state: parts.state,
            close_reason: parts.close_reason,
            priority: parts.priority,
            first_priority: parts.first_priority,
            first_owner: parts.first_owner,
            owner: parts.owner,
            owner_since: parts.owner_since,
            opened_at: parts.opened_at,
            channels: parts.channels,
            identities: parts.identities,
            held: parts.held,
            clocks: parts.clocks,
            first_response_done: parts.first_response_done,
            waiting_since: parts.waiting_since,
            last_customer_channel: parts.last_customer_channel,
            last_customer_public: parts.last_customer_public,
            last_reply_at: parts.last_reply_at,
            follow_ups: parts.follow_ups,
            channel_hops: parts.channel_hops,
            public_posts: parts.public_posts,
            closure_warnings: parts.closure_warnings,
            merged_into: parts.merged_into,
            continued_in: parts.continued_in,
            continues: parts.continues,
            cleared: parts.cleared,
            reminded: parts.reminded,
            next_due: parts.next_due,
            timeline: parts.timeline,
            omitted: parts.omitted,
            timeline_from: parts.timeline_from,
        }
    }

    pub fn into_case(self) -> Case {
        Case::from_parts(CaseParts {
            id: self.id,
            version: self.version,
            state: self.state,
            close_reason: self.close_reason,
            priority: self.priority,
            first_priority: self.first_priority,
            first_owner: self.first_owner,
            owner: self.owner,
            owner_since: self.owner_since,
            opened_at: self.opened_at,
            channels: self.channels,
            identities: self.identities,
            held: self.held,
            clocks: self.clocks,
            first_response_done: self.first_response_done,
            waiting_since: self.waiting_since,
            last_customer_channel: self.last_customer_channel,
            last_customer_public: self.last_customer_public,
            last_reply_at: self.last_reply_at,
            follow_ups: self.follow_ups,
            channel_hops: self.channel_hops,
            public_posts: self.public_posts,
            closure_warnings: self.closure_warnings,
            merged_into: self.merged_into,
            continued_in: self.continued_in,
            continues: self.continues,
            cleared: self.cleared,
            reminded: self.reminded,
            next_due: self.next_due,
            timeline: self.timeline,
            omitted: self.omitted,
            timeline_from: self.timeline_from,
        })
    }
}
