//! Names that parse: case ids, team ids, channels, customer identities and message references.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Whether `text` may prefix case ids (the policy's `case_prefix`): 2 to 8 capital letters.
pub fn is_case_prefix(text: &str) -> bool {
    (2..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// A case id like `BTN-7K3QF9`: the policy's prefix and six Crockford base32 characters.
///
/// Held inline, not as shared text: an id is at most 15 ASCII bytes (8 letters, `-`, 6 characters),
/// so it fits in 16 bytes with its length, the size of the `Arc<str>` it replaces (an `Option` of
/// one takes a byte more: no bit pattern is left over to mean `None`). Cloning one
/// touches no counter on the heap, and comparing or hashing one reads no memory elsewhere: the
/// in-memory store compares and hashes ids on every load and write (its due index is ordered by
/// instant, then id). The bytes after the id are zero and the last byte is its length, so the
/// bytes compared in order (as one big-endian number) order ids as their text orders them.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CaseId([u8; CASE_ID_BYTES]);

/// The room a case id takes: its longest text and its length.
const CASE_ID_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "`{0}` is not a case id: expected a prefix of 2 to 8 capital letters, `-` and 6 Crockford base32 characters"
    )]
    Case(String),
    #[error("`{0}` is not a team name: use lowercase letters, digits and `-`")]
    Team(String),
    #[error("unknown channel `{0}`: use email, x, facebook, instagram, phone, chat or web")]
    Channel(String),
    #[error("`{0}` is not an identity: write `email:ADDRESS`, `x:USER_ID` or `meta:SENDER_ID`")]
    Identity(String),
    #[error("`{0}` is not a message reference: write `email:<Message-ID>`, `x:ID` or `meta:ID`")]
    Reference(String),
    #[error("unknown priority `{0}`: low, normal, high or urgent")]
    Priority(String),
}

const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl CaseId {
    /// The id derived from the first signal of a case, so a retried delivery finds the same id.
    /// `attempt` picks another id when the first one is taken.
    pub fn derive(prefix: &str, seed: &str, attempt: u32) -> Self {
        let digest = Sha256::new().chain_update(seed.as_bytes()).chain_update(attempt.to_be_bytes()).finalize();
        let encoded = base32::encode(base32::Alphabet::Crockford, &digest[..4]);
        Self::inline(&format!("{prefix}-{}", &encoded[..6]))
    }

    /// An id whose text was checked: at most 15 bytes of ASCII letters, digits and `-`.
    fn inline(text: &str) -> Self {
        assert!(text.len() < CASE_ID_BYTES, "case id `{text}` is longer than a prefix of 8 letters allows");
        let mut bytes = [0; CASE_ID_BYTES];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        bytes[CASE_ID_BYTES - 1] = text.len() as u8;
        Self(bytes)
    }

    pub fn as_str(&self) -> &str {
        let len = usize::from(self.0[CASE_ID_BYTES - 1]);
        std::str::from_utf8(&self.0[..len]).expect("a case id is ASCII")
    }

    /// The shard of the due index this case lives in.
    pub fn shard(&self, shards: u32) -> u32 {
        let digest = Sha256::digest(self.as_str().as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shards.max(1)
    }
}

impl FromStr for CaseId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || IdError::Case(text.to_string());
        let (prefix, code) = text.split_once('-').ok_or_else(bad)?;
        let prefix_ok = is_case_prefix(prefix);
        let code_ok = code.len() == 6 && code.chars().all(|c| CROCKFORD.contains(c));
        if prefix_ok && code_ok { Ok(Self::inline(text)) } else { Err(bad()) }
    }
}

impl TryFrom<String> for CaseId {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<CaseId> for String {
    fn from(id: CaseId) -> Self {
        id.as_str().to_string()
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CaseId").field(&self.as_str()).finish()
    }
}

impl Ord for CaseId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        u128::from_be_bytes(self.0).cmp(&u128::from_be_bytes(other.0))
    }
}

impl PartialOrd for CaseId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for CaseId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_ne_bytes(self.0));
    }
}

/// A team's name as the policy gives it: `central`, `support-ch`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct TeamId(Arc<str>);

impl TeamId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TeamId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(text.into())) } else { Err(IdError::Team(text.to_string())) }
    }
}

impl TryFrom<String> for TeamId {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<TeamId> for String {
    fn from(id: TeamId) -> Self {
        id.0.to_string()
    }
}

impl fmt::Display for TeamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a message was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    X,
    Facebook,
    Instagram,
    Phone,
    Chat,
    Web,
}

impl Channel {
    pub fn is_social(self) -> bool {
        matches!(self, Self::X | Self::Facebook | Self::Instagram)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::X => "x",
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
            Self::Phone => "phone",
            Self::Chat => "chat",
            Self::Web => "web",
        }
    }
}

impl FromStr for Channel {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "email" => Self::Email,
            "x" | "twitter" => Self::X,
            "facebook" => Self::Facebook,
            "instagram" => Self::Instagram,
            "phone" => Self::Phone,
            "chat" => Self::Chat,
            "web" => Self::Web,
            _ => return Err(IdError::Channel(text.to_string())),
        })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How targets are chosen for a message: public social posts are the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelClass {
    /// Email and the other private, non-social channels (phone, chat, web forms).
    Email,
    SocialPrivate,
    SocialPublic,
}

impl ChannelClass {
    pub fn of(channel: Channel, public: bool) -> Self {
        match (channel.is_social(), public) {
            (true, true) => Self::SocialPublic,
            (true, false) => Self::SocialPrivate,
            (false, _) => Self::Email,
        }
    }
}

/// Who the customer is on one channel. Email addresses are kept lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Identity {
    Email(String),
    X(String),
    Meta(String),
    /// A helpdesk's or other platform's own customer id (generic webhooks).
    Other(String),
    /// What is left of an identity after `DELETE /customers/{identity}`: nothing.
    Erased,
}

impl Identity {
    /// The identity named in `/link {"channel", "identity"}`.
    pub fn for_channel(channel: &str, value: &str) -> Result<Self, IdError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(IdError::Identity(format!("{channel}:")));
        }
        Ok(match channel.to_ascii_lowercase().as_str() {
            // One address: an `@`, nothing before or after it missing, no white space.
            "email"
                if value.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
                    && !value.contains(char::is_whitespace) =>
            {
                Self::Email(value.to_ascii_lowercase())
            }
            "x" | "twitter" => Self::X(value.to_string()),
            "meta" | "facebook" | "instagram" => Self::Meta(value.to_string()),
            "other" | "web" | "chat" | "phone" => Self::Other(value.to_string()),
            _ => return Err(IdError::Identity(format!("{channel}:{value}"))),
        })
    }
}

impl FromStr for Identity {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "erased" {
            return Ok(Self::Erased);
        }
        let (kind, value) = text.split_once(':').ok_or_else(|| IdError::Identity(text.to_string()))?;
        Self::for_channel(kind, value)
    }
}

impl TryFrom<String> for Identity {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Identity> for String {
    fn from(id: Identity) -> Self {
        id.to_string()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email(v) => write!(f, "email:{v}"),
            Self::X(v) => write!(f, "x:{v}"),
            Self::Meta(v) => write!(f, "meta:{v}"),
            Self::Other(v) => write!(f, "other:{v}"),
            Self::Erased => f.write_str("erased"),
        }
    }
}

/// A reference to one message a case holds: `email:<Message-ID>`, `x:<tweet or DM id>`, `meta:<mid>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct MessageRef(Arc<str>);

impl MessageRef {
    /// An email Message-ID, kept with its angle brackets as mail headers write it.
    pub fn email(message_id: &str) -> Self {
        let id = message_id.trim().trim_start_matches('<').trim_end_matches('>');
        Self(format!("email:<{id}>").into())
    }

    pub fn x(id: &str) -> Self {
        Self(format!("x:{id}").into())
    }

    pub fn meta(id: &str) -> Self {
        Self(format!("meta:{id}").into())
    }

    pub fn other(id: &str) -> Self {
        Self(format!("other:{id}").into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MessageRef {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || IdError::Reference(text.to_string());
        let (kind, value) = text.split_once(':').ok_or_else(bad)?;
        if value.trim().is_empty() {
            return Err(bad());
        }
        match kind {
            "email" => Ok(Self::email(value)),
            "x" => Ok(Self::x(value)),
            "meta" => Ok(Self::meta(value)),
            "other" => Ok(Self::other(value)),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for MessageRef {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<MessageRef> for String {
    fn from(r: MessageRef) -> Self {
        r.0.to_string()
    }
}

impl fmt::Display for MessageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How urgent a case is; targets may differ per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

/// Reads the names [`Priority::as_str`] writes, as the policy spells them.
impl FromStr for Priority {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "low" => Ok(Self::Low),
            "normal" => Ok(Self::Normal),
            "high" => Ok(Self::High),
            "urgent" => Ok(Self::Urgent),
            _ => Err(IdError::Priority(text.to_string())),
        }
    }
}

/// Ids serialise as their text, written straight from where they hold it: `into = "String"` would
/// allocate a copy of every id written, and the replay writes hundreds of thousands.
impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for TeamId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Serialize for MessageRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Serialize for Identity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Held inline, ids still order, compare, print and read as their text does.
        #[test]
        fn case_ids_order_as_their_text(
            a in "[A-Z]{2,8}-[0-9A-HJKMNP-TV-Z]{6}",
            b in "[A-Z]{2,8}-[0-9A-HJKMNP-TV-Z]{6}",
        ) {
            let (x, y): (CaseId, CaseId) = (a.parse().unwrap(), b.parse().unwrap());
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(x.as_str(), a.as_str());
            prop_assert_eq!(x.to_string(), a.clone());
            prop_assert_eq!(format!("{x:?}"), format!("CaseId({a:?})"));
            prop_assert_eq!(serde_json::to_string(&x).unwrap(), serde_json::to_string(&a).unwrap());
            prop_assert_eq!(serde_json::from_str::<CaseId>(&serde_json::to_string(&a).unwrap()).unwrap(), x);
        }

        /// A shared prefix is the case the padding must get right: `AB-…` before `ABC-…`, as text.
        #[test]
        fn case_ids_with_a_common_prefix_order_as_their_text(
            prefix in "[A-Z]{2,7}", extra in "[A-Z]", code in "[0-9A-HJKMNP-TV-Z]{6}",
        ) {
            let (short, long) = (format!("{prefix}-{code}"), format!("{prefix}{extra}-{code}"));
            let (x, y): (CaseId, CaseId) = (short.parse().unwrap(), long.parse().unwrap());
            prop_assert_eq!(x.cmp(&y), short.cmp(&long));
            prop_assert_eq!(y.cmp(&x), long.cmp(&short));
        }
    }

    #[test]
    fn the_longest_case_id_fits() {
        let id: CaseId = "ABCDEFGH-7K3QF9".parse().unwrap();
        assert_eq!(id.as_str(), "ABCDEFGH-7K3QF9");
        assert!("ABCDEFGHI-7K3QF9".parse::<CaseId>().is_err(), "a prefix of 9 letters is refused");
    }

    #[test]
    fn derived_case_ids_are_stable_and_parse_back() {
        let id = CaseId::derive("BTN", "ses:abc", 0);
        assert_eq!(id, CaseId::derive("BTN", "ses:abc", 0));
        assert_ne!(id, CaseId::derive("BTN", "ses:abc", 1));
        assert_eq!(id.as_str().parse::<CaseId>(), Ok(id.clone()));
        assert!(id.as_str().starts_with("BTN-") && id.as_str().len() == 10);
    }

    #[test]
    fn case_ids_reject_letters_outside_crockford() {
        assert!("BTN-7K3QF9".parse::<CaseId>().is_ok());
        assert!("BTN-7K3QFU".parse::<CaseId>().is_err(), "U is not Crockford");
        assert!("btn-7K3QF9".parse::<CaseId>().is_err());
        assert!("BTN7K3QF9".parse::<CaseId>().is_err());
    }

    #[test]
    fn identities_name_their_channel() {
        assert_eq!("email:Max@Example.CH".parse(), Ok(Identity::Email("max@example.ch".into())));
        assert_eq!(Identity::for_channel("x", "42").unwrap().to_string(), "x:42");
        assert!(Identity::for_channel("email", "not-an-address").is_err());
        assert!(Identity::for_channel("fax", "1").is_err());
    }

    #[test]
    fn email_references_keep_one_form_with_or_without_brackets() {
        assert_eq!(MessageRef::email("abc@mail"), MessageRef::email("<abc@mail>"));
        assert_eq!("email:<abc@mail>".parse::<MessageRef>().unwrap().as_str(), "email:<abc@mail>");
        assert!("fax:1".parse::<MessageRef>().is_err());
    }

    #[test]
    fn priorities_parse_back_from_their_names_and_name_the_four_when_unknown() {
        for p in [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent] {
            assert_eq!(p.as_str().parse(), Ok(p));
        }
        let error = "soon".parse::<Priority>().unwrap_err().to_string();
        assert_eq!(error, "unknown priority `soon`: low, normal, high or urgent");
    }
}
