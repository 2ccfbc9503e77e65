//! Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time (`Mac::verify_slice`).
//!
//! - Meta: `X-Hub-Signature-256: sha256=<hex>`, keyed with the app secret.
//! - X: `x-twitter-webhooks-signature: sha256=<base64>`, keyed with the consumer secret; the CRC
//!   answer is the same HMAC over the `crc_token`.
//! - Standard Webhooks: `webhook-signature: v1,<base64> [v1,<base64> ...]` over
//!   `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the secret's base64 (after `whsec_`, which
//!   providers include or leave out, padded or not, as the official libraries accept), and a
//!   timestamp within five minutes of now.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a Standard Webhooks timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the webhook timestamp is {0} s away from now (at most {TOLERANCE_SECONDS} s allowed)")]
    Stale(i64),
    #[error("the webhook secret is not base64 (with or without `whsec_` before it)")]
    BadSecret,
}

/// Base64 that takes a secret padded or not, as providers hand them out.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The HMAC key of a Standard Webhooks secret: its base64, after `whsec_` when that is there. The
/// functions call this at start, so that a secret that cannot be decoded stops them with the
/// variable's name instead of refusing every delivery.
pub fn standard_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
    match SECRET_BASE64.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(SignatureError::BadSecret),
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// Meta's `X-Hub-Signature-256`.
pub fn verify_meta(app_secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    const NAME: &str = "X-Hub-Signature-256";
    let header = header.ok_or(SignatureError::Missing(NAME))?;
    let hex = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed(NAME))?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed(NAME))?;
    let mut mac = mac(app_secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// X's `x-twitter-webhooks-signature`.
pub fn verify_x(consumer_secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    const NAME: &str = "x-twitter-webhooks-signature";
    let header = header.ok_or(SignatureError::Missing(NAME))?;
    let encoded = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed(NAME))?;
    let expected = STANDARD.decode(encoded).map_err(|_| SignatureError::Malformed(NAME))?;
    let mut mac = mac(consumer_secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The longest `crc_token` answered. X's tokens are short base64 strings; see [`x_crc_response`].
pub const MAX_CRC_TOKEN: usize = 128;

/// X's CRC answer: `sha256=` and the base64 HMAC of the token, or `None` for a token that does not
/// look like X's.
///
/// The answer is the same HMAC, under the same key, that signs a delivery's body. Answering any token
/// would let anyone have Baton sign a JSON body of their choosing and then post it as a delivery, as
/// the brand or as any customer. X's tokens are base64 (letters, digits, `+`, `/`, `=`; `-` and `_`
/// in the URL-safe variant) and short, so a token holding anything else (`{`, `"`, `:`, a space)
/// or longer than [`MAX_CRC_TOKEN`] is refused: no JSON object, and so no delivery body, can pass.
pub fn x_crc_response(consumer_secret: &str, crc_token: &str) -> Option<String> {
    let looks_like_x = (1..=MAX_CRC_TOKEN).contains(&crc_token.len())
        && crc_token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    if !looks_like_x {
        return None;
    }
    let mut mac = mac(consumer_secret.as_bytes());
    mac.update(crc_token.as_bytes());
    Some(format!("sha256={}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The Standard Webhooks headers of a request.
#[derive(Debug, Clone, Copy)]
pub struct StandardHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Verifies a Standard Webhooks request at `now`; returns the message id (`webhook-id`).
pub fn verify_standard<'a>(
    secret: &str,
    headers: StandardHeaders<'a>,
    body: &[u8],
    now: Timestamp,
) -> Result<&'a str, SignatureError> {
    let id = headers.id.ok_or(SignatureError::Missing("webhook-id"))?;
    let timestamp = headers.timestamp.ok_or(SignatureError::Missing("webhook-timestamp"))?;
    let signatures = headers.signature.ok_or(SignatureError::Missing("webhook-signature"))?;
    let key = standard_key(secret)?;
    let seconds: i64 = timestamp.trim().parse().map_err(|_| SignatureError::Malformed("webhook-timestamp"))?;
    // i128: a timestamp near i64's ends must not overflow the difference.
    let skew = i128::from(now.as_second()) - i128::from(seconds);
    if skew.abs() > i128::from(TOLERANCE_SECONDS) {
        return Err(SignatureError::Stale(i64::try_from(skew).unwrap_or(if skew < 0 { i64::MIN } else { i64::MAX })));
    }
    let mut signed = mac(&key);
    signed.update(id.as_bytes());
    signed.update(b".");
    signed.update(timestamp.trim().as_bytes());
    signed.update(b".");
    signed.update(body);
    // Several signatures may be sent while a secret is rotated: any valid `v1` one will do.
    for candidate in signatures.split_whitespace() {
        let Some(encoded) = candidate.strip_prefix("v1,") else { continue };
        let Ok(expected) = STANDARD.decode(encoded) else { continue };
        if signed.clone().verify_slice(&expected).is_ok() {
            return Ok(id);
        }
    }
    Err(SignatureError::Mismatch)
}

/// Signs like a Standard Webhooks sender (for tests and tools): the `webhook-signature` value.
pub fn sign_standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignatureError> {
    let key = standard_key(secret)?;
    let mut mac = mac(&key);
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Signs like Meta (for tests and tools): the `X-Hub-Signature-256` value.
pub fn sign_meta(app_secret: &str, body: &[u8]) -> String {
    let mut mac = mac(app_secret.as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Signs like X (for tests and tools): the `x-twitter-webhooks-signature` value.
pub fn sign_x(consumer_secret: &str, body: &[u8]) -> String {
    let mut mac = mac(consumer_secret.as_bytes());
    mac.update(body);
    format!("sha256={}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Whether two secrets are equal, in time that does not depend on where they differ: both are
/// reduced to an HMAC and the digests compared with `verify_slice`.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let digest = |text: &str| {
        let mut m = mac(b"baton-compare");
        m.update(text.as_bytes());
        m
    };
    digest(given).verify_slice(&digest(expected).finalize().into_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"page","entry":[]}"#;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("verify-me", "verify-me"));
        assert!(!same_secret("verify-m", "verify-me"));
        assert!(!same_secret("", "verify-me"));
    }

    #[test]
    fn meta_signatures_are_checked() {
        let good = sign_meta("app-secret", BODY);
        assert_eq!(verify_meta("app-secret", Some(&good), BODY), Ok(()));
        assert_eq!(verify_meta("other", Some(&good), BODY), Err(SignatureError::Mismatch));
        assert_eq!(verify_meta("app-secret", Some(&good), b"{}"), Err(SignatureError::Mismatch));
        assert_eq!(verify_meta("app-secret", None, BODY), Err(SignatureError::Missing("X-Hub-Signature-256")));
        assert_eq!(
            verify_meta("app-secret", Some("sha1=abcd"), BODY),
            Err(SignatureError::Malformed("X-Hub-Signature-256"))
        );
        assert_eq!(
            verify_meta("app-secret", Some("sha256=zz"), BODY),
            Err(SignatureError::Malformed("X-Hub-Signature-256"))
        );
    }

    #[test]
    fn x_crc_matches_the_documented_example_shape_and_signatures_are_checked() {
        // The answer is `sha256=` and 44 characters of base64 (32 bytes).
        let answer = x_crc_response("secret", "token").unwrap();
        assert!(answer.starts_with("sha256=") && answer.len() == 7 + 44, "{answer}");
        let good = sign_x("secret", BODY);
        assert_eq!(verify_x("secret", Some(&good), BODY), Ok(()));
        assert_eq!(verify_x("secret", Some(&good), b"[]"), Err(SignatureError::Mismatch));
        assert!(verify_x("secret", Some("sha256=!!!"), BODY).is_err());
    }

    #[test]
    fn crc_tokens_that_could_be_a_body_are_not_signed() {
        assert!(x_crc_response("secret", "NjQ4OGUwZjMtNzg5Yi00Mzc0LTkxYjctOGEzZjJhYzk5MjQ3").is_some());
        assert!(x_crc_response("secret", "a-b_c+d/e=").is_some());
        for token in [r#"{"for_user_id":"1"}"#, "", "a b", "[]", &"a".repeat(MAX_CRC_TOKEN + 1), "tok\u{e9}n"] {
            assert_eq!(x_crc_response("secret", token), None, "{token:?}");
        }
    }

    #[test]
    fn standard_webhooks_match_the_specification_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let timestamp = 1614265330;
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign_standard(secret, id, timestamp, body).unwrap(), expected);
        let now = Timestamp::from_second(timestamp + 10).unwrap();
        let headers = StandardHeaders { id: Some(id), timestamp: Some("1614265330"), signature: Some(expected) };
        assert_eq!(verify_standard(secret, headers, body, now), Ok(id));
        // Rotation: another signature first, the valid one second.
        let two = format!("v1,AAAA {expected}");
        let rotated = StandardHeaders { signature: Some(&two), ..headers };
        assert_eq!(verify_standard(secret, rotated, body, now), Ok(id));
        // Stale, in either direction, and tampered.
        let late = Timestamp::from_second(timestamp + 301).unwrap();
        assert_eq!(verify_standard(secret, headers, body, late), Err(SignatureError::Stale(301)));
        let early = Timestamp::from_second(timestamp - 301).unwrap();
        assert_eq!(verify_standard(secret, headers, body, early), Err(SignatureError::Stale(-301)));
        assert_eq!(verify_standard(secret, headers, b"{}", now), Err(SignatureError::Mismatch));
        let no_id = StandardHeaders { id: None, ..headers };
        assert_eq!(verify_standard(secret, no_id, body, now), Err(SignatureError::Missing("webhook-id")));
        assert_eq!(verify_standard("not base64!", headers, body, now), Err(SignatureError::BadSecret));
        assert_eq!(verify_standard("whsec_", headers, body, now), Err(SignatureError::BadSecret));
    }

    #[test]
    fn secrets_are_taken_with_or_without_their_prefix_and_padding() {
        // The specification's secret is 32 characters of unpadded-length base64; providers also hand
        // out padded secrets and secrets without `whsec_`.
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(standard_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(), key);
        let padded = STANDARD.encode([7u8; 31]);
        assert!(padded.ends_with('='));
        assert_eq!(standard_key(&format!("whsec_{padded}")).unwrap(), vec![7u8; 31]);
        assert_eq!(standard_key(padded.trim_end_matches('=')).unwrap(), vec![7u8; 31]);
    }

    #[test]
    fn a_timestamp_at_the_ends_of_the_range_is_stale_not_an_overflow() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let now = Timestamp::from_second(1614265330).unwrap();
        for timestamp in [i64::MIN.to_string(), i64::MAX.to_string()] {
            let headers =
                StandardHeaders { id: Some("msg_1"), timestamp: Some(&timestamp), signature: Some("v1,AAAA") };
            assert!(
                matches!(verify_standard(secret, headers, b"{}", now), Err(SignatureError::Stale(_))),
                "{timestamp}"
            );
        }
    }
}
