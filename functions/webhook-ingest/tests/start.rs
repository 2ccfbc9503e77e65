//! The function refuses to start without its configuration, and names each missing variable.

fn stderr(env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_webhook-ingest"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn each_missing_secret_is_named() {
    let mut env = vec![];
    for name in ["META_APP_SECRET", "META_VERIFY_TOKEN", "X_CONSUMER_SECRET", "WEBHOOK_SECRET", "BATON_TABLE"] {
        assert!(stderr(&env).contains(name), "{name}");
        env.push((name, if name == "WEBHOOK_SECRET" { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } else { "set" }));
    }
}

#[test]
fn with_a_secret_arn_the_variables_are_not_needed_and_an_unreadable_secret_stops_the_start() {
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton/webhooks-AbCdEf";
    let stderr = stderr(&[
        ("BATON_TABLE", "cases"),
        ("BATON_SECRET_ARN", arn),
        // Nothing listens there: the read fails as it would without permission or network.
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "baton"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ]);
    assert!(stderr.contains(&format!("the secret {arn} (BATON_SECRET_ARN) cannot be read")), "{stderr}");
    assert!(!stderr.contains("META_APP_SECRET"), "{stderr}");
}

#[test]
fn a_webhook_secret_that_cannot_be_decoded_stops_the_start_with_its_name() {
    let env = [
        ("META_APP_SECRET", "set"),
        ("META_VERIFY_TOKEN", "set"),
        ("X_CONSUMER_SECRET", "set"),
        ("WEBHOOK_SECRET", "whsec_not base64!"),
        ("BATON_TABLE", "cases"),
    ];
    let stderr = stderr(&env);
    assert!(stderr.contains("WEBHOOK_SECRET is not a Standard Webhooks secret"), "{stderr}");
}
