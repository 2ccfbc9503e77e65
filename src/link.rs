//! Signed links (docs/design.md, "The lead's side"): a token names a case, what it allows (`view`, or
//! `ack` of one clock and level) and when it expires (14 days by default), signed with HMAC-SHA256
//! and written in URL-safe base64 without padding. The token is the credential of `GET`/`POST
//! /l/<token>`, so it is never logged and no error quotes it.
//!
//! A token is the base64 of `payload || mac`, where the payload is a short text
//! (`1|BTN-7K3QF9|view|1777000000`, `1|BTN-7K3QF9|ack|handoff_accept|1|1777000000`) and the MAC is
//! the HMAC-SHA256 of a fixed context string and the payload. The MAC is checked (in constant time,
//! `Mac::verify_slice`) before anything of the payload is read, so an altered token is refused
//! without being parsed.
//!
//! With `BATON_LINK_SECRET` (or `BATON_LINK_SECRET_ARN`, a Secrets Manager secret) and
//! `BATON_PUBLIC_URL` set, [`Linker`] makes the `links` an alert carries: `{"case": URL, "ack": URL}`,
//! each `<BATON_PUBLIC_URL>/l/<token>`. Without them there are no links and nothing else changes.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::alert::Alert;
use crate::domain::clock::ClockKind;
use crate::domain::ids::CaseId;

type HmacSha256 = Hmac<Sha256>;

/// How long a link works: 14 days from when it was made.
pub const DEFAULT_VALIDITY: SignedDuration = SignedDuration::from_hours(14 * 24);

/// The shortest secret a signer takes: 32 bytes, the size of the HMAC-SHA256 output.
pub const MIN_SECRET_BYTES: usize = 32;

/// Separates these MACs from any other use of the same key.
const CONTEXT: &[u8] = b"baton link v1\n";
/// The payload's format version, its first field.
const VERSION: &str = "1";
const MAC_BYTES: usize = 32;
/// No real token comes near this; a longer one is refused before it is decoded.
const MAX_TOKEN_CHARS: usize = 512;

/// What a token allows on its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allows {
    /// See the case page.
    View,
    /// See the case page and acknowledge `clock` up to `level` there.
    Ack { clock: ClockKind, level: u8 },
}

/// What a verified token grants: the case, what it allows, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub case: CaseId,
    pub allows: Allows,
    pub expires: Timestamp,
}

impl Grant {
    /// A view of `case`, valid for [`DEFAULT_VALIDITY`] from `now`.
    pub fn view(case: CaseId, now: Timestamp) -> Self {
        Self { case, allows: Allows::View, expires: now + DEFAULT_VALIDITY }
    }

    /// An acknowledgement of `clock` up to `level` on `case`, valid for [`DEFAULT_VALIDITY`] from `now`.
    pub fn ack(case: CaseId, clock: ClockKind, level: u8, now: Timestamp) -> Self {
        Self { case, allows: Allows::Ack { clock, level }, expires: now + DEFAULT_VALIDITY }
    }

    fn payload(&self) -> String {
        let expires = self.expires.as_second();
        match self.allows {
            Allows::View => format!("{VERSION}|{}|view|{expires}", self.case),
            Allows::Ack { clock, level } => format!("{VERSION}|{}|ack|{clock}|{level}|{expires}", self.case),
        }
    }

    fn parse(payload: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(payload).ok()?;
        let fields: Vec<&str> = text.split('|').collect();
        let (case, allows, expires) = match fields.as_slice() {
            [VERSION, case, "view", expires] => (case, Allows::View, expires),
            [VERSION, case, "ack", clock, level, expires] => {
                let level: u8 = level.parse().ok().filter(|l| *l <= 3)?;
                (case, Allows::Ack { clock: clock.parse().ok()?, level }, expires)
            }
            _ => return None,
        };
        let expires = Timestamp::from_second(expires.parse().ok()?).ok()?;
        Some(Self { case: case.parse().ok()?, allows, expires })
    }
}

/// Why a token was refused. None of them says anything of the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token at all: not base64, too short or too long, or a payload that does not read.
    #[error("the link is malformed")]
    Malformed,
    /// Altered, truncated, or signed with another secret.
    #[error("the link's signature does not match")]
    BadSignature,
    /// Signed, but past its expiry.
    #[error("the link expired at {0}")]
    Expired(Timestamp),
}

/// A secret shorter than [`MIN_SECRET_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a link secret needs at least {MIN_SECRET_BYTES} bytes; this one has {bytes}")]
pub struct ShortSecret {
    pub bytes: usize,
}

/// Signs and verifies tokens with one secret.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner { key: <redacted> }")
    }
}

impl LinkSigner {
    /// A signer over `secret`, which must hold at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, ShortSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ShortSecret { bytes: secret.len() });
        }
        Ok(Self { key: secret.to_vec() })
    }

    fn mac(&self) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(CONTEXT);
        mac
    }

    /// The token for `grant`.
    pub fn sign(&self, grant: &Grant) -> String {
        let payload = grant.payload();
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let mut bytes = payload.into_bytes();
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What `token` grants at `now`, or why it grants nothing.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Grant, LinkError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(LinkError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LinkError::Malformed)?;
        if bytes.len() <= MAC_BYTES {
            return Err(LinkError::Malformed);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - MAC_BYTES);
        let mut mac = self.mac();
        mac.update(payload);
        mac.verify_slice(tag).map_err(|_| LinkError::BadSignature)?;
        let grant = Grant::parse(payload).ok_or(LinkError::Malformed)?;
        if now >= grant.expires {
            return Err(LinkError::Expired(grant.expires));
        }
        Ok(grant)
    }
}

/// The links an alert carries (`links` in `baton.alert.v1`): the case page, and the acknowledge page
/// of the alert's clock and level (none for a `cleared` alert, which has nothing to acknowledge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    pub case: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<String>,
}

/// Makes links: a signer and the public URL the `/l/` routes answer on.
#[derive(Debug, Clone)]
pub struct Linker {
    signer: LinkSigner,
    public_url: String,
    validity: SignedDuration,
}

impl Linker {
    /// Links under `public_url` (`https://…`, or `http://…` for a local run; a trailing `/` is
    /// dropped), valid for [`DEFAULT_VALIDITY`].
    pub fn new(signer: LinkSigner, public_url: &str) -> Result<Self, LinkConfigError> {
        Ok(Self { signer, public_url: public_url_of(public_url)?, validity: DEFAULT_VALIDITY })
    }

    /// The same links with another validity (tests, or a shorter policy).
    pub fn with_validity(self, validity: SignedDuration) -> Self {
        Self { validity, ..self }
    }

    pub fn signer(&self) -> &LinkSigner {
        &self.signer
    }

    /// `<public URL>/l/<token>` for `grant`.
    pub fn url(&self, grant: &Grant) -> String {
        format!("{}/l/{}", self.public_url, self.signer.sign(grant))
    }

    /// The case link, and the acknowledge link of `ack` (a clock and level) if given, made at `now`.
    pub fn links(&self, case: &CaseId, ack: Option<(ClockKind, u8)>, now: Timestamp) -> Links {
        let expires = now + self.validity;
        let view = Grant { case: case.clone(), allows: Allows::View, expires };
        let ack = ack.map(|(clock, level)| Grant { case: case.clone(), allows: Allows::Ack { clock, level }, expires });
        Links { case: self.url(&view), ack: ack.as_ref().map(|g| self.url(g)) }
    }

    /// The links of `alert`, made at `now`: `ack` of its clock and level, except for a `cleared`
    /// alert. `None` when the alert's case id is not one (alerts are built from cases, so never).
    pub fn for_alert(&self, alert: &Alert, now: Timestamp) -> Option<Links> {
        let case: CaseId = alert.case_id.parse().ok()?;
        let ack = (alert.kind != "cleared").then_some((alert.clock, alert.level));
        Some(self.links(&case, ack, now))
    }
}

/// `BATON_PUBLIC_URL` without its trailing `/`, if it is an http(s) URL with a host and without
/// query or fragment.
fn public_url_of(text: &str) -> Result<String, LinkConfigError> {
    let url = text.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split('/').next().unwrap_or_default());
    let ok = host.is_some_and(|h| !h.is_empty())
        && !url.contains(['?', '#'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(url.to_string()) } else { Err(LinkConfigError::BadUrl) }
}

/// What is wrong with the link configuration. No variant holds a secret or a token.
#[derive(Debug, thiserror::Error)]
pub enum LinkConfigError {
    /// One of the two settings without the other.
    #[error("{set} is set but {missing} is not: signed links need both (or neither, for alerts without links)")]
    OnlyOne { set: &'static str, missing: &'static str },
    #[error("the link secret ({source_name}) is too short: at least {MIN_SECRET_BYTES} bytes, it has {bytes}")]
    ShortSecret { source_name: String, bytes: usize },
    #[error("BATON_PUBLIC_URL is not an http(s) URL without query or fragment (the HTTP API's URL)")]
    BadUrl,
    #[error("the secret {arn} (BATON_LINK_SECRET_ARN) cannot be read: {reason}")]
    SecretUnreadable { arn: String, reason: String },
    #[error("the secret {arn} (BATON_LINK_SECRET_ARN) is not a JSON object with a BATON_LINK_SECRET string")]
    SecretFormat { arn: String },
    /// The case page without either secret setting.
    #[error(
        "neither BATON_LINK_SECRET_ARN nor BATON_LINK_SECRET is set: the case page needs the link secret to check links"
    )]
    NoSecret,
}

/// Where the link secret comes from, as the environment says.
#[derive(Debug)]
pub enum LinkSource {
    /// Neither setting: alerts carry no links.
    Off,
    /// `BATON_LINK_SECRET` and `BATON_PUBLIC_URL`.
    Ready(Linker),
    /// `BATON_LINK_SECRET_ARN` and `BATON_PUBLIC_URL`: read the secret at start ([`read_secret`]).
    Manager { arn: String, public_url: String },
}

/// The link settings from the environment: `BATON_PUBLIC_URL` with `BATON_LINK_SECRET_ARN` (deployed)
/// or `BATON_LINK_SECRET` (local runs and tests); both or neither.
pub fn source_from_env() -> Result<LinkSource, LinkConfigError> {
    source_of(|n| std::env::var(n).ok())
}

fn source_of(env: impl Fn(&str) -> Option<String>) -> Result<LinkSource, LinkConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let url = get("BATON_PUBLIC_URL");
    let arn = get("BATON_LINK_SECRET_ARN");
    let secret = get("BATON_LINK_SECRET");
    match (url, arn, secret) {
        (None, None, None) => Ok(LinkSource::Off),
        (Some(url), Some(arn), _) => {
            Ok(LinkSource::Manager { arn: arn.trim().to_string(), public_url: public_url_of(&url)? })
        }
        (Some(url), None, Some(secret)) => Ok(LinkSource::Ready(linker(&secret, "BATON_LINK_SECRET", &url)?)),
        (Some(_), None, None) => {
            Err(LinkConfigError::OnlyOne { set: "BATON_PUBLIC_URL", missing: "BATON_LINK_SECRET" })
        }
        (None, Some(_), _) => {
            Err(LinkConfigError::OnlyOne { set: "BATON_LINK_SECRET_ARN", missing: "BATON_PUBLIC_URL" })
        }
        (None, None, Some(_)) => {
            Err(LinkConfigError::OnlyOne { set: "BATON_LINK_SECRET", missing: "BATON_PUBLIC_URL" })
        }
    }
}

fn linker(secret: &str, source_name: &str, url: &str) -> Result<Linker, LinkConfigError> {
    Linker::new(signer(secret, source_name)?, url)
}

/// Reads the link secret from the Secrets Manager secret `arn` (its `SecretString` a JSON object
/// with `BATON_LINK_SECRET`, as a template's generated secret is) and makes links under `public_url`.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    public_url: &str,
) -> Result<Linker, LinkConfigError> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| LinkConfigError::SecretUnreadable {
        arn: arn.to_string(),
        reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
    })?;
    let text = out.secret_string().ok_or_else(|| LinkConfigError::SecretFormat { arn: arn.to_string() })?;
    linker_of_secret(arn, text, public_url)
}

fn linker_of_secret(arn: &str, text: &str, public_url: &str) -> Result<Linker, LinkConfigError> {
    Linker::new(signer_of_secret(arn, text)?, public_url)
}

fn signer_of_secret(arn: &str, text: &str) -> Result<LinkSigner, LinkConfigError> {
    // The parse error is dropped: serde_json quotes the text around it, which is the secret.
    let values: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| LinkConfigError::SecretFormat { arn: arn.to_string() })?;
    match values.get("BATON_LINK_SECRET") {
        Some(serde_json::Value::String(secret)) => signer(secret, &format!("BATON_LINK_SECRET in the secret {arn}")),
        _ => Err(LinkConfigError::SecretFormat { arn: arn.to_string() }),
    }
}

fn signer(secret: &str, source_name: &str) -> Result<LinkSigner, LinkConfigError> {
    LinkSigner::new(secret.as_bytes())
        .map_err(|e| LinkConfigError::ShortSecret { source_name: source_name.to_string(), bytes: e.bytes })
}

/// Where the case page's signer comes from: it verifies tokens and makes no links, so it needs the
/// secret and not `BATON_PUBLIC_URL` (which, for a function behind the HTTP API, would be a
/// reference from the function to the API that already refers to the function).
#[derive(Debug)]
pub enum SignerSource {
    /// `BATON_LINK_SECRET` (local runs and tests).
    Ready(LinkSigner),
    /// `BATON_LINK_SECRET_ARN`: read the secret at start ([`read_signer`]).
    Manager { arn: String },
}

/// The case page's secret from the environment: `BATON_LINK_SECRET_ARN` (deployed; it wins) or
/// `BATON_LINK_SECRET`. One of them is required: a case page without a secret cannot check a link.
pub fn signer_source_from_env() -> Result<SignerSource, LinkConfigError> {
    signer_source_of(|n| std::env::var(n).ok())
}

fn signer_source_of(env: impl Fn(&str) -> Option<String>) -> Result<SignerSource, LinkConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    match (get("BATON_LINK_SECRET_ARN"), get("BATON_LINK_SECRET")) {
        (Some(arn), _) => Ok(SignerSource::Manager { arn: arn.trim().to_string() }),
        (None, Some(secret)) => Ok(SignerSource::Ready(signer(&secret, "BATON_LINK_SECRET")?)),
        (None, None) => Err(LinkConfigError::NoSecret),
    }
}

/// Reads the link secret from the Secrets Manager secret `arn` (as [`read_secret`]) for a signer alone.
pub async fn read_signer(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<LinkSigner, LinkConfigError> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| LinkConfigError::SecretUnreadable {
        arn: arn.to_string(),
        reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
    })?;
    let text = out.secret_string().ok_or_else(|| LinkConfigError::SecretFormat { arn: arn.to_string() })?;
    signer_of_secret(arn, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn case() -> CaseId {
        "BTN-EGT6FK".parse().unwrap()
    }

    fn signer() -> LinkSigner {
        LinkSigner::new(SECRET).unwrap()
    }

    #[test]
    fn a_signed_view_and_ack_come_back_as_they_were_granted() {
        let now = at("2026-04-23T12:10:00Z");
        let view = Grant::view(case(), now);
        assert_eq!(view.expires, at("2026-05-07T12:10:00Z"), "14 days");
        assert_eq!(signer().verify(&signer().sign(&view), now), Ok(view));
        let ack = Grant::ack(case(), ClockKind::HandoffAccept, 1, now);
        let token = signer().sign(&ack);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{token}");
        assert_eq!(signer().verify(&token, at("2026-05-07T12:09:59Z")), Ok(ack));
    }

    #[test]
    fn a_secret_under_32_bytes_is_refused() {
        assert_eq!(LinkSigner::new(&SECRET[..31]).unwrap_err(), ShortSecret { bytes: 31 });
        assert!(LinkSigner::new(&[7; 32]).is_ok());
        assert!(!format!("{:?}", signer()).contains("0123"), "the key is not in Debug");
    }

    #[test]
    fn an_altered_token_is_refused_whichever_byte_changed() {
        let now = at("2026-04-23T12:10:00Z");
        let token = signer().sign(&Grant::ack(case(), ClockKind::FirstResponse, 2, now));
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let altered = URL_SAFE_NO_PAD.encode(altered);
            assert_eq!(signer().verify(&altered, now), Err(LinkError::BadSignature), "byte {i}");
        }
        // The level raised in the payload, re-encoded with the old MAC: the MAC no longer fits.
        let payload = String::from_utf8(bytes[..bytes.len() - MAC_BYTES].to_vec()).unwrap();
        let mut forged = payload.replace("|2|", "|3|").into_bytes();
        forged.extend_from_slice(&bytes[bytes.len() - MAC_BYTES..]);
        assert_eq!(signer().verify(&URL_SAFE_NO_PAD.encode(forged), now), Err(LinkError::BadSignature));
    }

    #[test]
    fn a_truncated_token_is_refused() {
        let now = at("2026-04-23T12:10:00Z");
        let token = signer().sign(&Grant::view(case(), now));
        for cut in [1, 2, 10, 43, token.len() - 1] {
            let truncated = &token[..token.len() - cut];
            assert!(signer().verify(truncated, now).is_err(), "cut {cut}");
        }
        assert_eq!(signer().verify(&token[..40], now), Err(LinkError::Malformed), "shorter than a MAC");
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let now = at("2026-04-23T12:10:00Z");
        let other = LinkSigner::new(b"another secret of at least 32 bytes!").unwrap();
        let token = other.sign(&Grant::view(case(), now));
        assert_eq!(signer().verify(&token, now), Err(LinkError::BadSignature));
    }

    #[test]
    fn an_expired_token_is_refused_from_its_expiry_on() {
        let now = at("2026-04-23T12:10:00Z");
        let grant = Grant::view(case(), now);
        let token = signer().sign(&grant);
        assert_eq!(signer().verify(&token, grant.expires), Err(LinkError::Expired(grant.expires)));
        assert_eq!(signer().verify(&token, at("2027-01-01T00:00:00Z")), Err(LinkError::Expired(grant.expires)));
    }

    #[test]
    fn malformed_tokens_are_refused_and_no_error_quotes_them() {
        let now = at("2026-04-23T12:10:00Z");
        let long = "A".repeat(600);
        for token in ["", "not base64!", "abc=", "a+b/c", long.as_str()] {
            let error = signer().verify(token, now).unwrap_err();
            assert_eq!(error, LinkError::Malformed, "{token:?}");
            assert!(token.is_empty() || !error.to_string().contains(token));
        }
        // Well signed, but not a payload Baton writes: refused as malformed after the MAC checks.
        for payload in ["2|BTN-EGT6FK|view|1777000000", "1|BTN-EGT6FK|ack|first_response|4|1777000000", "1|x|view|1"] {
            let mut mac = signer().mac();
            mac.update(payload.as_bytes());
            let mut bytes = payload.as_bytes().to_vec();
            bytes.extend_from_slice(&mac.finalize().into_bytes());
            assert_eq!(signer().verify(&URL_SAFE_NO_PAD.encode(bytes), now), Err(LinkError::Malformed), "{payload}");
        }
    }

    #[test]
    fn links_are_the_public_url_and_l_and_a_token_and_ack_is_left_out_when_none() {
        let now = at("2026-04-23T12:10:00Z");
        let linker = Linker::new(signer(), "https://api.example.com/").unwrap();
        let links = linker.links(&case(), Some((ClockKind::HandoffAccept, 1)), now);
        let token = links.ack.as_deref().unwrap().strip_prefix("https://api.example.com/l/").unwrap();
        let grant = signer().verify(token, now).unwrap();
        assert_eq!(grant.allows, Allows::Ack { clock: ClockKind::HandoffAccept, level: 1 });
        let view = links.case.strip_prefix("https://api.example.com/l/").unwrap();
        assert_eq!(signer().verify(view, now).unwrap().allows, Allows::View);
        let json = serde_json::to_value(&links).unwrap();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["case", "ack"]);
        let only_case = serde_json::to_value(linker.links(&case(), None, now)).unwrap();
        assert_eq!(only_case.as_object().unwrap().keys().collect::<Vec<_>>(), ["case"]);
        for bad in ["api.example.com", "ftp://x", "https://", "https://x/?a=b", "https://x y"] {
            assert!(matches!(Linker::new(signer(), bad), Err(LinkConfigError::BadUrl)), "{bad}");
        }
    }

    #[test]
    fn the_settings_are_both_or_neither_and_a_short_secret_is_named_not_quoted() {
        let env = |pairs: &[(&'static str, &'static str)]| {
            let pairs = pairs.to_vec();
            move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
        };
        assert!(matches!(source_of(env(&[])), Ok(LinkSource::Off)));
        let url = ("BATON_PUBLIC_URL", "https://api.example.com");
        let secret = ("BATON_LINK_SECRET", "0123456789abcdef0123456789abcdef");
        assert!(matches!(source_of(env(&[url, secret])), Ok(LinkSource::Ready(_))));
        let error = source_of(env(&[url])).unwrap_err().to_string();
        assert!(error.starts_with("BATON_PUBLIC_URL is set but BATON_LINK_SECRET is not"), "{error}");
        let error = source_of(env(&[secret])).unwrap_err().to_string();
        assert!(error.starts_with("BATON_LINK_SECRET is set but BATON_PUBLIC_URL is not"), "{error}");
        let error = source_of(env(&[url, ("BATON_LINK_SECRET", "hush-too-short")])).unwrap_err().to_string();
        assert!(error.contains("too short") && error.contains("it has 14") && !error.contains("hush"), "{error}");
        let arn = ("BATON_LINK_SECRET_ARN", "arn:aws:secretsmanager:eu-central-2:1:secret:links");
        assert!(matches!(source_of(env(&[url, arn])), Ok(LinkSource::Manager { .. })));
        assert!(matches!(source_of(env(&[url, arn, secret])), Ok(LinkSource::Manager { .. })), "the ARN wins");
        assert!(source_of(env(&[arn])).unwrap_err().to_string().contains("BATON_PUBLIC_URL is not"));
        assert!(matches!(source_of(env(&[("BATON_PUBLIC_URL", "nope"), secret])), Err(LinkConfigError::BadUrl)));
    }

    #[test]
    fn the_case_page_needs_a_secret_and_not_the_public_url() {
        let env = |pairs: &[(&'static str, &'static str)]| {
            let pairs = pairs.to_vec();
            move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
        };
        assert!(matches!(signer_source_of(env(&[])), Err(LinkConfigError::NoSecret)));
        let secret = ("BATON_LINK_SECRET", "0123456789abcdef0123456789abcdef");
        assert!(matches!(signer_source_of(env(&[secret])), Ok(SignerSource::Ready(_))));
        let arn = ("BATON_LINK_SECRET_ARN", "arn:s");
        assert!(matches!(signer_source_of(env(&[arn, secret])), Ok(SignerSource::Manager { .. })), "the ARN wins");
        let error = signer_source_of(env(&[("BATON_LINK_SECRET", "hush")])).unwrap_err().to_string();
        assert!(error.contains("too short") && !error.contains("hush"), "{error}");
        assert!(signer_of_secret("arn:s", r#"{"BATON_LINK_SECRET": "0123456789abcdef0123456789abcdef"}"#).is_ok());
    }

    #[test]
    fn a_stored_secret_is_a_json_object_and_errors_never_quote_it() {
        let url = "https://api.example.com";
        let linker = linker_of_secret("arn:s", r#"{"BATON_LINK_SECRET": "0123456789abcdef0123456789abcdef"}"#, url);
        assert!(linker.is_ok());
        for bad in [r#"{"BATON_LINK_SECRET": "hush"}"#, r#"{"OTHER": "hush"}"#, "hush", r#"{"BATON_LINK_SECRET": 7}"#] {
            let error = linker_of_secret("arn:s", bad, url).unwrap_err().to_string();
            assert!(!error.contains("hush") && error.contains("arn:s"), "{error}");
        }
    }
}
