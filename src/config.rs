//! Function configuration from the environment (docs/design.md, "Function configuration"): read once at
//! start; a missing variable stops the function with a message naming it.
//!
//! The webhook secrets come from Secrets Manager when `BATON_SECRET_ARN` names a secret (deployed:
//! read at each cold start, so a rotated secret takes effect without a deploy), else from their own
//! environment variables (local runs and tests). No secret value is ever part of an error or a log.

use std::collections::BTreeMap;

use crate::domain::policy::Policy;
use crate::handler::webhook::Secrets;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {name} is not set: {what}")]
    Missing { name: &'static str, what: &'static str },
    #[error("the policy in BATON_POLICY is invalid:\n{0}")]
    Policy(String),
    /// The secret could not be read (no such secret, no permission, no network): the function
    /// cannot verify deliveries, so it does not start.
    #[error("the secret {arn} (BATON_SECRET_ARN) cannot be read: {reason}")]
    SecretUnreadable { arn: String, reason: String },
    /// The secret is not a JSON object of strings.
    #[error("the secret {arn} (BATON_SECRET_ARN) is not a JSON object of strings (SecretString)")]
    SecretFormat { arn: String },
    /// The secret lacks a key, or holds it blank.
    #[error("the secret {arn} (BATON_SECRET_ARN) has no {name}: {what}")]
    SecretKey { arn: String, name: &'static str, what: &'static str },
    /// A value is there but unusable (a Standard Webhooks secret that is not base64).
    #[error("the environment variable {name} is not {what}")]
    Invalid { name: &'static str, what: &'static str },
    /// The secret holds a value that is unusable.
    #[error("the secret {arn} (BATON_SECRET_ARN) has a {name} that is not {what}")]
    SecretInvalid { arn: String, name: &'static str, what: &'static str },
    /// The signed links' settings (`BATON_LINK_SECRET`/`BATON_LINK_SECRET_ARN`, `BATON_PUBLIC_URL`).
    #[error(transparent)]
    Links(#[from] crate::link::LinkConfigError),
}

/// A required variable; `what` says what it is for, for the error.
pub fn required(name: &'static str, what: &'static str) -> Result<String, ConfigError> {
    lookup(name, what, &|n| std::env::var(n).ok())
}

fn lookup(
    name: &'static str,
    what: &'static str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    env(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing { name, what })
}

/// The webhook secrets by name, with what each is for (the keys of the secret, or the variables).
const WEBHOOK_SECRETS: [(&str, &str); 4] = [
    ("META_APP_SECRET", "the Meta app secret that signs webhook deliveries"),
    ("META_VERIFY_TOKEN", "the token Meta's subscription check must present"),
    ("X_CONSUMER_SECRET", "the X app's consumer secret (signatures and CRC)"),
    ("WEBHOOK_SECRET", "the Standard Webhooks secret (base64, with or without whsec_)"),
];

/// Where the webhook function's secrets come from.
#[derive(Debug)]
pub enum SecretSource {
    /// `BATON_SECRET_ARN`: one Secrets Manager secret, read at start ([`read_secret`]).
    Manager(String),
    /// No `BATON_SECRET_ARN`: the four environment variables (local runs and tests).
    Environment(Secrets),
}

/// `BATON_SECRET_ARN` if set, else the four secrets from their variables (each missing one named).
pub fn webhook_secret_source() -> Result<SecretSource, ConfigError> {
    secret_source(|n| std::env::var(n).ok())
}

fn secret_source(env: impl Fn(&str) -> Option<String>) -> Result<SecretSource, ConfigError> {
    if let Some(arn) = env("BATON_SECRET_ARN").filter(|v| !v.trim().is_empty()) {
        return Ok(SecretSource::Manager(arn.trim().to_string()));
    }
    let [meta, verify, x, webhook] = WEBHOOK_SECRETS.map(|(name, what)| lookup(name, what, &env));
    let secrets =
        Secrets { meta_app_secret: meta?, meta_verify_token: verify?, x_consumer_secret: x?, webhook_secret: webhook? };
    if !decodable(&secrets.webhook_secret) {
        return Err(ConfigError::Invalid { name: "WEBHOOK_SECRET", what: STANDARD_SECRET });
    }
    Ok(SecretSource::Environment(secrets))
}

/// What a Standard Webhooks secret must be, for the error.
const STANDARD_SECRET: &str = "a Standard Webhooks secret: base64, with or without whsec_";

/// Whether a Standard Webhooks secret can be decoded: checked at start, so that one that cannot
/// stops the function with its name instead of refusing every delivery.
fn decodable(secret: &str) -> bool {
    crate::ingest::signature::standard_key(secret).is_ok()
}

/// Reads the webhook secrets from the Secrets Manager secret `arn`: its `SecretString` is a JSON
/// object with `META_APP_SECRET`, `META_VERIFY_TOKEN`, `X_CONSUMER_SECRET` and `WEBHOOK_SECRET`.
pub async fn read_secret(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Secrets, ConfigError> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| ConfigError::SecretUnreadable {
        arn: arn.to_string(),
        reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
    })?;
    let text = out.secret_string().ok_or_else(|| ConfigError::SecretFormat { arn: arn.to_string() })?;
    secrets_of(arn, text)
}

fn secrets_of(arn: &str, text: &str) -> Result<Secrets, ConfigError> {
    // The parse error is dropped: serde_json quotes the text around it, which is the secret.
    let values: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| ConfigError::SecretFormat { arn: arn.to_string() })?;
    let get = |(name, what): (&'static str, &'static str)| match values.get(name) {
        Some(serde_json::Value::String(v)) if !v.trim().is_empty() => Ok(v.clone()),
        Some(serde_json::Value::String(_)) | None => Err(ConfigError::SecretKey { arn: arn.to_string(), name, what }),
        Some(_) => Err(ConfigError::SecretFormat { arn: arn.to_string() }),
    };
    let [meta, verify, x, webhook] = WEBHOOK_SECRETS.map(get);
    let secrets =
        Secrets { meta_app_secret: meta?, meta_verify_token: verify?, x_consumer_secret: x?, webhook_secret: webhook? };
    if !decodable(&secrets.webhook_secret) {
        return Err(ConfigError::SecretInvalid { arn: arn.to_string(), name: "WEBHOOK_SECRET", what: STANDARD_SECRET });
    }
    Ok(secrets)
}

/// The AWS configuration for a local endpoint (DynamoDB Local, moto): a fixed region and dummy
/// credentials, which local services accept and which keep real credentials out of local runs.
/// Every SDK client is made from it: `aws_sdk_dynamodb::Client::new(&local_aws(url))`.
pub fn local_aws(endpoint: &str) -> aws_config::SdkConfig {
    use aws_config::{BehaviorVersion, Region};
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("baton", "local", None, None, "local")))
        .build()
}

/// The AWS configuration the `baton` command uses for a local endpoint (`create-table` and `replay`
/// with `--dynamodb-endpoint`): the SDK's normal chain, as the functions load it (`AWS_REGION`, keys
/// from the environment or a profile), pointed at `endpoint`. DynamoDB Local keeps one database per
/// access key and region (unless started with `-sharedDb`), so a table made here must be made with
/// the keys and region a function run in the same environment uses. Only what nothing configures
/// falls back to [`local_aws`]'s: the region `us-east-1`, the dummy credentials.
pub async fn local_aws_from_env(endpoint: &str) -> aws_config::SdkConfig {
    use aws_credential_types::provider::ProvideCredentials;
    let loaded = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint).load().await;
    let fallback = local_aws(endpoint);
    let mut config = loaded.to_builder();
    if loaded.region().is_none() {
        config.set_region(fallback.region().cloned());
    }
    let configured = match loaded.credentials_provider() {
        Some(provider) => provider.provide_credentials().await.is_ok(),
        None => false,
    };
    if !configured {
        config.set_credentials_provider(fallback.credentials_provider());
    }
    config.build()
}

/// Stops a function that cannot start, with the reason (a missing variable, a bad policy).
pub fn or_exit<T>(function: &str, config: Result<T, ConfigError>) -> T {
    config.unwrap_or_else(|e| {
        eprintln!("{function} cannot start: {e}");
        std::process::exit(2)
    })
}

/// `BATON_TABLE`: the DynamoDB table of cases.
pub fn table() -> Result<String, ConfigError> {
    required("BATON_TABLE", "the DynamoDB table of cases")
}

/// `BATON_TOPIC_ARN`: the SNS topic alerts are published to.
pub fn topic() -> Result<String, ConfigError> {
    required("BATON_TOPIC_ARN", "the SNS topic alerts are published to")
}

/// `BATON_CHAT_TOPIC_ARN` (optional): a standard SNS topic that also gets each alert in the
/// custom-notification format of Amazon Q Developer in chat applications; unset or blank, none.
pub fn chat_topic() -> Option<String> {
    std::env::var("BATON_CHAT_TOPIC_ARN").ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `BATON_POLICY` (a path or the policy text), else the shipped policy.
pub fn policy() -> Result<Policy, ConfigError> {
    match std::env::var("BATON_POLICY") {
        Ok(setting) if !setting.trim().is_empty() => {
            Policy::from_setting(&setting).map_err(|e| ConfigError::Policy(e.to_string()))
        }
        _ => Ok(Policy::default_policy()),
    }
}

/// The signed links' settings: `BATON_PUBLIC_URL` with `BATON_LINK_SECRET_ARN` (read it with
/// [`crate::link::read_secret`]) or `BATON_LINK_SECRET`; both or neither (see [`crate::link`]).
pub fn links() -> Result<crate::link::LinkSource, ConfigError> {
    Ok(crate::link::source_from_env()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_blank_variable_is_named() {
        let error = lookup("BATON_TABLE", "the DynamoDB table", &|_| None).unwrap_err();
        assert_eq!(error.to_string(), "the environment variable BATON_TABLE is not set: the DynamoDB table");
        assert!(lookup("BATON_TABLE", "t", &|_| Some("  ".into())).is_err());
        assert_eq!(lookup("BATON_TABLE", "t", &|_| Some("cases".into())).unwrap(), "cases");
    }

    #[test]
    fn a_secret_arn_takes_the_place_of_the_four_secret_variables() {
        let source = secret_source(|n| (n == "BATON_SECRET_ARN").then(|| "arn:aws:secretsmanager:x".into())).unwrap();
        assert!(matches!(source, SecretSource::Manager(arn) if arn == "arn:aws:secretsmanager:x"));
        let error = secret_source(|n| (!["X_CONSUMER_SECRET", "BATON_SECRET_ARN"].contains(&n)).then(|| "set".into()))
            .unwrap_err();
        assert!(error.to_string().contains("X_CONSUMER_SECRET"), "{error}");
        assert!(matches!(secret_source(|_| Some("set".into())), Ok(SecretSource::Manager(_))));
        let value = |n: &str| if n == "WEBHOOK_SECRET" { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } else { "set" };
        let only_variables = secret_source(|n| (n != "BATON_SECRET_ARN").then(|| value(n).into())).unwrap();
        assert!(matches!(only_variables, SecretSource::Environment(s) if s.meta_app_secret == "set"));
    }

    #[test]
    fn a_secret_missing_a_key_is_refused_naming_the_key_and_never_quoting_a_value() {
        let full = r#"{"META_APP_SECRET": "m-hush", "META_VERIFY_TOKEN": "v-hush", "X_CONSUMER_SECRET": "x-hush", "WEBHOOK_SECRET": "whsec_hush"}"#;
        let secrets = secrets_of("arn:s", full).unwrap();
        assert_eq!(secrets.meta_verify_token, "v-hush");
        let missing = r#"{"META_APP_SECRET": "m-hush", "META_VERIFY_TOKEN": "v-hush", "WEBHOOK_SECRET": "whsec_hush"}"#;
        let error = secrets_of("arn:s", missing).unwrap_err().to_string();
        assert_eq!(
            error,
            "the secret arn:s (BATON_SECRET_ARN) has no X_CONSUMER_SECRET: the X app's consumer secret (signatures and CRC)"
        );
        let blank = full.replace("v-hush", " ");
        assert!(secrets_of("arn:s", &blank).unwrap_err().to_string().contains("META_VERIFY_TOKEN"));
        for bad in ["whsec_hush-not-json", r#"{"META_APP_SECRET": 7}"#, r#"["m-hush"]"#] {
            let error = secrets_of("arn:s", bad).unwrap_err().to_string();
            assert!(!error.contains("hush"), "{error}");
        }
    }

    #[test]
    fn a_webhook_secret_that_cannot_be_decoded_is_named_wherever_it_comes_from() {
        let env = |webhook: &'static str| {
            move |n: &str| match n {
                "BATON_SECRET_ARN" => None,
                "WEBHOOK_SECRET" => Some(webhook.to_string()),
                _ => Some("set".to_string()),
            }
        };
        let error = secret_source(env("whsec_not base64!")).unwrap_err().to_string();
        assert!(error.starts_with("the environment variable WEBHOOK_SECRET is not"), "{error}");
        assert!(secret_source(env("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).is_ok(), "without whsec_");
        let stored = r#"{"META_APP_SECRET": "m", "META_VERIFY_TOKEN": "v", "X_CONSUMER_SECRET": "x", "WEBHOOK_SECRET": "whsec_!!"}"#;
        let error = secrets_of("arn:s", stored).unwrap_err().to_string();
        assert!(error.contains("has a WEBHOOK_SECRET that is not") && !error.contains("!!"), "{error}");
    }
}
