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
