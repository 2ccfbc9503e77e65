//! The webhook function's secrets read at start from Secrets Manager (moto's server), as the
//! deployed function reads them: one secret, by ARN, a JSON object of the four secrets.

mod common;

use baton::config::{self, ConfigError};
use common::moto;

fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&config::local_aws(moto::endpoint()))
}

/// A new secret holding `value`; its ARN.
async fn secret(test: &str, value: &str) -> String {
    let name = format!("baton/{test}-{}", std::process::id());
    let out = client().create_secret().name(name).secret_string(value).send().await.expect("creating the secret");
    out.arn.expect("the secret's ARN")
}

#[tokio::test]
async fn the_webhook_secrets_are_read_from_the_secret_named_by_its_arn() {
    let arn = secret(
        "full",
        r#"{"META_APP_SECRET": "meta-app", "META_VERIFY_TOKEN": "verify", "X_CONSUMER_SECRET": "x-consumer", "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}"#,
    )
    .await;
    let secrets = config::read_secret(&client(), &arn).await.expect("the secrets");
    assert_eq!(secrets.meta_app_secret, "meta-app");
    assert_eq!(secrets.meta_verify_token, "verify");
    assert_eq!(secrets.x_consumer_secret, "x-consumer");
    assert_eq!(secrets.webhook_secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

#[tokio::test]
async fn a_rotated_secret_is_what_the_next_start_reads() {
    let arn = secret(
        "rotated",
        r#"{"META_APP_SECRET": "old", "META_VERIFY_TOKEN": "v", "X_CONSUMER_SECRET": "x", "WEBHOOK_SECRET": "whsec_AA=="}"#,
    )
    .await;
    client()
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(r#"{"META_APP_SECRET": "new", "META_VERIFY_TOKEN": "v", "X_CONSUMER_SECRET": "x", "WEBHOOK_SECRET": "whsec_AA=="}"#)
        .send()
        .await
        .expect("rotating");
    assert_eq!(config::read_secret(&client(), &arn).await.unwrap().meta_app_secret, "new");
}

#[tokio::test]
async fn a_secret_missing_a_key_stops_the_start_naming_the_key() {
    let arn = secret(
        "missing",
        r#"{"META_APP_SECRET": "hush-1", "META_VERIFY_TOKEN": "hush-2", "WEBHOOK_SECRET": "whsec_hush"}"#,
    )
    .await;
    let error = config::read_secret(&client(), &arn).await.unwrap_err();
    assert!(matches!(&error, ConfigError::SecretKey { name: "X_CONSUMER_SECRET", .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("X_CONSUMER_SECRET") && message.contains(&arn), "{message}");
    assert!(!message.contains("hush"), "{message}");
}

#[tokio::test]
async fn an_unknown_secret_stops_the_start_with_its_arn() {
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:baton/none-AbCdEf";
    let error = config::read_secret(&client(), arn).await.unwrap_err();
    assert!(matches!(error, ConfigError::SecretUnreadable { .. }), "{error:?}");
    assert!(error.to_string().contains(arn), "{error}");
}
