//! Function configuration from the environment (DESIGN.md, "Function configuration"): read once at
//! start; a missing variable stops the function with a message naming it.

use crate::domain::policy::Policy;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {name} is not set: {what}")]
    Missing { name: &'static str, what: &'static str },
    #[error("the policy in BATON_POLICY is invalid:\n{0}")]
    Policy(String),
    #[error("the environment variable {name} is not {what}")]
    Invalid { name: &'static str, what: &'static str },
}

/// `WEBHOOK_SECRET`: the Standard Webhooks secret, checked at start so that one that cannot be
/// decoded stops the function with the variable's name instead of refusing every delivery.
pub fn webhook_secret() -> Result<String, ConfigError> {
    const NAME: &str = "WEBHOOK_SECRET";
    let secret = required(NAME, "the Standard Webhooks secret (base64, with or without whsec_)")?;
    check_webhook_secret(NAME, secret)
}

fn check_webhook_secret(name: &'static str, secret: String) -> Result<String, ConfigError> {
    match crate::ingest::signature::standard_key(&secret) {
        Ok(_) => Ok(secret),
        Err(_) => {
            Err(ConfigError::Invalid { name, what: "a Standard Webhooks secret: base64, with or without whsec_" })
        }
    }
}

/// A required variable; `what` says what it is for, for the error.
pub fn required(name: &'static str, what: &'static str) -> Result<String, ConfigError> {
    lookup(name, what, |n| std::env::var(n).ok())
}

fn lookup(name: &'static str, what: &'static str, env: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    env(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing { name, what })
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

/// `BATON_POLICY` (a path or the policy text), else the shipped policy.
pub fn policy() -> Result<Policy, ConfigError> {
    match std::env::var("BATON_POLICY") {
        Ok(setting) if !setting.trim().is_empty() => {
            Policy::from_setting(&setting).map_err(|e| ConfigError::Policy(e.to_string()))
        }
        _ => Ok(Policy::default_policy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_blank_variable_is_named() {
        let error = lookup("BATON_TABLE", "the DynamoDB table", |_| None).unwrap_err();
        assert_eq!(error.to_string(), "the environment variable BATON_TABLE is not set: the DynamoDB table");
        assert!(lookup("BATON_TABLE", "t", |_| Some("  ".into())).is_err());
        assert_eq!(lookup("BATON_TABLE", "t", |_| Some("cases".into())).unwrap(), "cases");
    }

    #[test]
    fn a_webhook_secret_that_cannot_be_decoded_is_named() {
        let error = check_webhook_secret("WEBHOOK_SECRET", "whsec_not base64!".into()).unwrap_err();
        assert!(error.to_string().starts_with("the environment variable WEBHOOK_SECRET is not"), "{error}");
        assert!(check_webhook_secret("WEBHOOK_SECRET", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()).is_ok());
    }
}
